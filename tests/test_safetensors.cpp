// safetensors: round trip of every dtype, the exact byte layout of a tiny file, files written
// by hand the way another writer could, corruption, and module state <-> named tensors.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/errors.h"
#include "core/run/safetensors.h"

namespace stdfs = std::filesystem;

namespace {

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() /
           ("mg_test_safetensors_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }
  stdfs::path dir_;
};

std::string read_bytes(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const stdfs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
// A file as another writer might make it: given header text, no padding, given data.
std::string hand_file(const std::string& header, const std::string& data) {
  std::string out;
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// Loading must fail with BadInput, and the message must name the file and contain `what`.
void expect_bad_input(const stdfs::path& p, const std::string& what) {
  try {
    mg::load_safetensors(p);
    ADD_FAILURE() << "no error loading " << p;
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    std::string msg = e.what();
    EXPECT_NE(msg.find(p.filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "expected '" << what << "' in: " << msg;
  }
}

}  // namespace

TEST_F(SafetensorsTest, RoundTripsEveryDtypeAndShape) {
  torch::manual_seed(3);
  auto r = torch::randn({3, 5});
  mg::NamedTensors in{
      {"f32", r},
      {"f64", torch::randn({2, 3}, torch::kFloat64)},
      {"bf16", r.to(torch::kBFloat16)},
      {"f16", r.to(torch::kFloat16)},
      {"i64", torch::randint(-1000000000000LL, 1000000000000LL, {7}, torch::kInt64)},
      {"i32", torch::randint(-100000, 100000, {2, 2, 2}, torch::kInt32)},
      {"i16", torch::randint(-30000, 30000, {4}, torch::kInt16)},
      {"i8", torch::randint(-128, 127, {4}, torch::kInt8)},
      {"u8", torch::randint(0, 256, {9}, torch::kUInt8)},
      {"bool", torch::randint(0, 2, {3, 3}) > 0},
      {"scalar", torch::tensor(3.5)},
      {"empty", torch::empty({0})},
      {"empty_2d", torch::empty({2, 0, 3}, torch::kInt64)},
      {"transposed", r.t()},  // non-contiguous input
  };
  std::map<std::string, std::string> meta{{"format", "pt"}, {"round", "3"}};
  auto p = dir_ / "all.safetensors";
  mg::save_safetensors(p, in, meta);

  std::map<std::string, std::string> meta_back;
  auto out = mg::load_safetensors(p, &meta_back);
  EXPECT_EQ(meta_back, meta);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(in[i].first);
    EXPECT_EQ(out[i].first, in[i].first);  // file order is the order written
    EXPECT_EQ(out[i].second.scalar_type(), in[i].second.scalar_type());
    EXPECT_EQ(out[i].second.sizes(), in[i].second.sizes());
    EXPECT_TRUE(out[i].second.device().is_cpu());
    EXPECT_TRUE(torch::equal(out[i].second, in[i].second));
  }
  EXPECT_EQ(out[10].second.dim(), 0);
  EXPECT_EQ(out[10].second.item<float>(), 3.5f);
  // The data section starts 8-byte aligned.
  std::string bytes = read_bytes(p);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  EXPECT_EQ((8 + n) % 8, 0u);
  // No temporary left behind.
  int files = 0;
  for (const auto& e : stdfs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(SafetensorsTest, TinyFileHasTheHandComputedByteLayout) {
  auto p = dir_ / "tiny.safetensors";
  mg::save_safetensors(p, {{"x", torch::tensor({1.0f, -2.0f})}});
  const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";  // 54 bytes
  std::string expected;
  expected += std::string("\x38\0\0\0\0\0\0\0", 8);  // 56 = 54 + 2 bytes of padding, little-endian
  expected += header + "  ";
  expected += std::string("\x00\x00\x80\x3f", 4);  // 1.0f
  expected += std::string("\x00\x00\x00\xc0", 4);  // -2.0f
  EXPECT_EQ(read_bytes(p), expected);
}

TEST_F(SafetensorsTest, ReadsAFileWrittenByAnotherWriter) {
  // Key order, metadata placement and the missing padding differ from what we write.
  auto p = dir_ / "other.safetensors";
  write_bytes(p, hand_file(R"({"b":{"data_offsets":[0,2],"dtype":"I16","shape":[1]},"__metadata__":{"format":"pt"},)"
                           R"("a":{"shape":[],"dtype":"U8","data_offsets":[2,3]}})",
                           std::string("\x34\x12\x07", 3)));
  std::map<std::string, std::string> meta;
  auto t = mg::load_safetensors(p, &meta);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].first, "b");
  EXPECT_EQ(t[0].second.scalar_type(), torch::kInt16);
  EXPECT_EQ(t[0].second[0].item<int>(), 0x1234);
  EXPECT_EQ(t[1].first, "a");
  EXPECT_EQ(t[1].second.dim(), 0);
  EXPECT_EQ(t[1].second.item<int>(), 7);
  EXPECT_EQ(meta.at("format"), "pt");
}

TEST_F(SafetensorsTest, CorruptFilesAreBadInput) {
  auto good = dir_ / "good.safetensors";
  mg::save_safetensors(good, {{"w", torch::randn({16, 16})}, {"b", torch::randn({16})}});
  const std::string bytes = read_bytes(good);

  auto p = dir_ / "bad.safetensors";
  write_bytes(p, bytes.substr(0, bytes.size() - 3));  // cut in the data
  expect_bad_input(p, "out of range");
  write_bytes(p, bytes.substr(0, 5));  // cut in the header length
  expect_bad_input(p, "shorter than the 8-byte header length");
  write_bytes(p, bytes.substr(0, 40));  // cut in the header
  expect_bad_input(p, "header length");
  std::string huge = bytes;
  huge[5] = '\x01';  // header length 2^40
  write_bytes(p, huge);
  expect_bad_input(p, "header length");
  std::string garbage = bytes;
  for (int i = 8; i < 20; ++i) garbage[i] = '#';
  write_bytes(p, garbage);
  expect_bad_input(p, "not valid JSON");
  write_bytes(p, "");
  expect_bad_input(p, "shorter");

  const std::string data(8, '\0');
  write_bytes(p, hand_file(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,1000]}})", data));
  expect_bad_input(p, "out of range");
  write_bytes(p, hand_file(R"({"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", data));
  expect_bad_input(p, "unknown dtype 'C64'");
  write_bytes(p, hand_file(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data));
  expect_bad_input(p, "shape [3]");
  write_bytes(p, hand_file(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", data));
  expect_bad_input(p, "non-negative");
  write_bytes(p, hand_file(R"({"x":{"dtype":"F32","shape":[2]}})", data));
  expect_bad_input(p, "data_offsets");
  write_bytes(p, hand_file(R"({"x":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},)"
                           R"("y":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})", data));
  expect_bad_input(p, "overlap");
  write_bytes(p, hand_file(R"([1,2,3])", data));
  expect_bad_input(p, "not a JSON object");
  expect_bad_input(dir_ / "missing.safetensors", "cannot read");
}

TEST_F(SafetensorsTest, SaveRejectsBadNamesAndDtypes) {
  auto p = dir_ / "x.safetensors";
  auto t = torch::zeros({2});
  EXPECT_THROW(mg::save_safetensors(p, {{"a", t}, {"a", t}}), mg::Error);
  EXPECT_THROW(mg::save_safetensors(p, {{"", t}}), mg::Error);
  EXPECT_THROW(mg::save_safetensors(p, {{"__metadata__", t}}), mg::Error);
  EXPECT_THROW(mg::save_safetensors(p, {{"c", torch::zeros({2}, torch::kComplexFloat)}}), mg::Error);
  EXPECT_FALSE(stdfs::exists(p));
}

namespace {
struct NetImpl : torch::nn::Module {
  explicit NetImpl(int hidden) {
    fc = register_module("fc", torch::nn::Linear(3, hidden));
    norm = register_module("norm", torch::nn::BatchNorm1d(hidden));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};
TORCH_MODULE(Net);
}  // namespace

TEST_F(SafetensorsTest, ModuleStateRoundTripsParametersAndBuffers) {
  torch::manual_seed(1);
  Net a(4);
  a->train();
  a->norm->forward(a->fc->forward(torch::randn({8, 3})));  // moves the running statistics
  auto state = mg::module_state(*a);
  std::vector<std::string> names;
  for (const auto& [n, t] : state) names.push_back(n);
  EXPECT_NE(std::find(names.begin(), names.end(), "fc.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "norm.running_mean"), names.end());
  auto p = dir_ / "model.safetensors";
  mg::save_safetensors(p, state);

  torch::manual_seed(2);
  Net b(4);
  EXPECT_FALSE(torch::equal(a->fc->weight, b->fc->weight));
  mg::load_module_state(*b, mg::load_safetensors(p), p.string());
  EXPECT_TRUE(torch::equal(a->fc->weight, b->fc->weight));
  EXPECT_TRUE(torch::equal(a->fc->bias, b->fc->bias));
  EXPECT_TRUE(torch::equal(a->norm->running_mean, b->norm->running_mean));
  EXPECT_TRUE(torch::equal(a->norm->running_var, b->norm->running_var));
  EXPECT_TRUE(torch::equal(a->norm->num_batches_tracked, b->norm->num_batches_tracked));
}

TEST_F(SafetensorsTest, ModuleStateMismatchIsBadInputAndLeavesTheModuleAlone) {
  Net a(4);
  auto state = mg::module_state(*a);
  Net wider(5);
  auto before = wider->fc->weight.clone();
  try {
    mg::load_module_state(*wider, state, "ckpt/model.safetensors");
    ADD_FAILURE() << "shape mismatch accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("ckpt/model.safetensors"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos);
  }
  EXPECT_TRUE(torch::equal(before, wider->fc->weight));

  Net b(4);
  auto missing = state;
  missing.erase(missing.begin());
  EXPECT_THROW(mg::load_module_state(*b, missing, "m"), mg::Error);
  auto extra = state;
  extra.emplace_back("head.weight", torch::zeros({1}));
  try {
    mg::load_module_state(*b, extra, "m");
    ADD_FAILURE() << "extra tensor accepted";
  } catch (const mg::Error& e) {
    EXPECT_NE(std::string(e.what()).find("head.weight"), std::string::npos);
  }
}

TEST_F(SafetensorsTest, CudaTensorsSaveFromAndLoadIntoTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU: CUDA tensors cannot be made here";
  torch::manual_seed(4);
  Net a(4);
  a->to(torch::kCUDA, torch::kBFloat16);
  auto p = dir_ / "gpu.safetensors";
  mg::save_safetensors(p, mg::module_state(*a));
  auto loaded = mg::load_safetensors(p);
  for (const auto& [n, t] : loaded) EXPECT_TRUE(t.device().is_cpu()) << n;
  Net b(4);
  b->to(torch::kCUDA, torch::kBFloat16);
  mg::load_module_state(*b, loaded, p.string());
  EXPECT_TRUE(b->fc->weight.is_cuda());
  EXPECT_TRUE(torch::equal(a->fc->weight, b->fc->weight));
}
