// What the checksums and loaders refuse, in-process: non-finite weights (named, on load and
// before a commit), a MANIFEST that omits a round's required files, the run directory's own
// files against its MANIFEST, state files that are not a round's, the optimizer saved onto a
// full disk (a file-size limit always; a small tmpfs where mounting is allowed), and the
// recipe's size rules.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/run/finite_check.h"
#include "core/fs.h"
#include "core/run/manifest.h"
#include "core/report/plot.h"
#include "core/recipe/recipe_limits.h"
#include "core/run/run_dir.h"
#include "core/run/safetensors.h"

namespace stdfs = std::filesystem;

namespace {

class Integrity : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = stdfs::temp_directory_path() / ("mg_test_integrity_" + std::to_string(::getpid()) + "_" +
                                           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
    run_.root = dir_ / "run";
  }
  void TearDown() override { stdfs::remove_all(dir_); }
  static void write(const stdfs::path& p, const std::string& s) {
    stdfs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
  }
  void commit_round(int r) {
    mg::RoundWriter w(run_, r);
    write(w.dir() / "model.safetensors", "weights of round " + std::to_string(r));
    write(w.dir() / "state.json", "{\"round\": " + std::to_string(r) + "}");
    w.commit();
  }
  // The message of the mg::Error that f throws, checked to be of `kind`.
  template <class F>
  static std::string error_of(F&& f, mg::ErrorKind kind) {
    try {
      f();
    } catch (const mg::Error& e) {
      EXPECT_EQ(e.kind(), kind) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no mg::Error thrown";
    return "";
  }
  stdfs::path dir_;
  mg::RunDir run_;
};

torch::nn::Linear small_model() {
  torch::manual_seed(0);
  return torch::nn::Linear(4, 3);
}

}  // namespace

TEST_F(Integrity, FirstNonFiniteNamesTheTensor) {
  mg::NamedTensors state = {{"a", torch::ones({3})},
                            {"ids", torch::arange(4)},  // integers are never non-finite
                            {"b", torch::ones({2, 2})},
                            {"c", torch::ones({2})}};
  EXPECT_FALSE(mg::first_non_finite(state).has_value());
  state[2].second[1][0] = std::numeric_limits<float>::infinity();
  state[3].second[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(mg::first_non_finite(state).value_or(""), "b");
  auto msg = error_of([&] { mg::require_finite(state, mg::ErrorKind::Internal, "round 3: distillation", "; not committed"); },
                      mg::ErrorKind::Internal);
  EXPECT_EQ(msg, "round 3: distillation: tensor 'b' holds a NaN or an infinity; not committed");
}

TEST_F(Integrity, LoadRefusesANonFiniteCheckpointNamingTensorAndFile) {
  auto model = small_model();
  auto state = mg::module_state(*model);
  auto path = dir_ / "model.safetensors";
  mg::save_safetensors(path, state);
  auto target = small_model();
  EXPECT_NO_THROW(mg::load_module_state(*target, mg::load_safetensors(path), path.string()));

  auto bad = mg::module_state(*model);
  for (auto& [name, t] : bad) t = t.clone();
  bad[1].second[0] = std::numeric_limits<float>::quiet_NaN();  // "bias"
  mg::save_safetensors(path, bad);
  torch::Tensor before = target->weight.clone();
  auto msg = error_of([&] { mg::load_module_state(*target, mg::load_safetensors(path), path.string()); },
                      mg::ErrorKind::BadInput);
  EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("tensor '" + bad[1].first + "' holds a NaN or an infinity"), std::string::npos) << msg;
  EXPECT_TRUE(torch::equal(before, target->weight)) << "a refused load leaves the module untouched";
}

TEST_F(Integrity, ARoundMustListItsRequiredFiles) {
  commit_round(0);
  commit_round(1);
  std::string problem;
  EXPECT_TRUE(mg::verify_round(run_, 1, &problem)) << problem;
  // Round 1's MANIFEST emptied: every file it listed is still there, but nothing vouches for them.
  write(run_.round(1) / "MANIFEST", "");
  EXPECT_TRUE(mg::verify_manifest(run_.round(1), nullptr)) << "the listed files (none) all match";
  EXPECT_FALSE(mg::verify_round(run_, 1, &problem));
  EXPECT_EQ(problem, "model.safetensors: not listed in MANIFEST");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(mg::latest_good_round(run_), 0);
  EXPECT_EQ(mg::latest_good_round(run_), 0);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("round-0001: corrupt (model.safetensors: not listed in MANIFEST)"), std::string::npos) << log;
  size_t first = log.find("round-0001: corrupt");
  EXPECT_EQ(log.find("round-0001: corrupt", first + 1), std::string::npos) << "warned once per command: " << log;

  // A MANIFEST that lists the weights but not the state.
  mg::write_manifest(run_.round(1));
  stdfs::remove(run_.round(1) / "state.json");
  mg::write_manifest(run_.round(1));
  EXPECT_FALSE(mg::verify_round(run_, 1, &problem));
  EXPECT_EQ(problem, "state.json: missing (and not listed in MANIFEST)");
}

TEST_F(Integrity, RoundStateMustBeThatRoundsObject) {
  commit_round(0);
  commit_round(1);
  EXPECT_EQ(mg::load_round_state(run_, 1)["round"], 1);
  auto state = run_.round(1) / "state.json";
  for (const char* text : {"", "[]", "{}", "{\"round\": 2}"}) {
    write(state, text);
    mg::write_manifest(run_.round(1));  // the damage is vouched for: the content must still be checked
    auto msg = error_of([&] { mg::load_round_state(run_, 1); }, mg::ErrorKind::BadInput);
    EXPECT_EQ(msg.rfind(state.string() + ": ", 0), 0u) << "'" << text << "': " << msg;
  }
  // Without the MANIFEST update the round itself is named as corrupt.
  write(state, "{\"round\": 1, \"x\": 1}");
  auto msg = error_of([&] { mg::load_round_state(run_, 1); }, mg::ErrorKind::BadInput);
  EXPECT_NE(msg.find("round-0001: corrupt (state.json: checksum mismatch"), std::string::npos) << msg;
}

TEST_F(Integrity, RunFilesAreCheckedAgainstTheRunManifest) {
  stdfs::create_directories(run_.root);
  write(run_.tokenizer(), "tokenizer bytes");
  EXPECT_EQ(mg::check_run_file(run_, "tokenizer.model"), mg::RunFileCheck::Unlisted);
  mg::record_run_file(run_, "tokenizer.model");
  write(run_.recipe(), "task: {}\n");
  mg::record_run_file(run_, "recipe.yaml");
  EXPECT_EQ(mg::check_run_file(run_, "tokenizer.model"), mg::RunFileCheck::Ok);
  EXPECT_EQ(mg::check_run_file(run_, "recipe.yaml"), mg::RunFileCheck::Ok);
  // sha256sum format, one line per file, both kept when one is updated.
  std::string manifest = mg::fs::read_file(run_.manifest());
  EXPECT_NE(manifest.find(mg::sha256_file(run_.tokenizer()) + "  tokenizer.model\n"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("  recipe.yaml\n"), std::string::npos) << manifest;

  std::string bytes = mg::fs::read_file(run_.tokenizer());
  bytes[3] ^= 0x01;  // one bit
  write(run_.tokenizer(), bytes);
  EXPECT_EQ(mg::check_run_file(run_, "tokenizer.model"), mg::RunFileCheck::Mismatch);
  auto msg = error_of([&] { mg::require_run_file_intact(run_, "tokenizer.model"); }, mg::ErrorKind::BadInput);
  EXPECT_NE(msg.find(run_.tokenizer().string() + ": does not match its checksum"), std::string::npos) << msg;
  stdfs::remove(run_.tokenizer());
  EXPECT_EQ(mg::check_run_file(run_, "tokenizer.model"), mg::RunFileCheck::Mismatch);
  EXPECT_EQ(mg::check_run_file(run_, "recipe.yaml"), mg::RunFileCheck::Ok);
}

namespace {

// An AdamW state of ~2 MB (two moments of 256k floats).
struct BigOptimizer {
  torch::nn::Linear m{512, 512};
  torch::optim::AdamW opt{m->parameters(), torch::optim::AdamWOptions(1e-3)};
  BigOptimizer() {
    opt.zero_grad();
    m->forward(torch::ones({2, 512})).sum().backward();
    opt.step();
  }
};

bool leftovers_in(const stdfs::path& dir) {
  for (const auto& e : stdfs::directory_iterator(dir))
    if (e.path().filename().string().find("optimizer.pt") != std::string::npos) return true;
  return false;
}

}  // namespace

// In a child process: saves a 2 MB optimizer state under a 256 KB file-size limit. 0 when that
// is a BadInput naming the file and no temporary file is left.
int save_under_file_limit(const stdfs::path& dir) {
  BigOptimizer big;
  std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing the process
  struct rlimit lim;
  lim.rlim_cur = lim.rlim_max = 256 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &lim);
  int code = 10;
  try {
    mg::save_optimizer(dir / "optimizer.pt", big.opt);
  } catch (const mg::Error& e) {
    bool named = std::string(e.what()).find("optimizer.pt") != std::string::npos;
    code = e.kind() == mg::ErrorKind::BadInput && named ? (leftovers_in(dir) ? 11 : 0) : 12;
  }
  stdfs::remove_all(dir);  // this child's own scratch directory: its TearDown never runs
  return code;
}

// A write error inside torch's archive writer used to abort the process (exit 134) and leave
// the temporary file. A file-size limit makes write() fail as a full disk does, everywhere.
TEST_F(Integrity, OptimizerSaveOverTheFileSizeLimitIsACleanError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::_Exit(save_under_file_limit(dir_)), ::testing::ExitedWithCode(0), "");
}

// The disk-full case during pretraining, where this machine lets a test mount a tmpfs.
TEST_F(Integrity, OptimizerSaveOnAFullTmpfsIsACleanError) {
  auto mnt = dir_ / "small";
  stdfs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "); the file-size-limit test covers it";
  struct Unmount {
    stdfs::path at;
    ~Unmount() { ::umount(at.c_str()); }  // also when an assertion below ends the test
  } unmount{mnt};
  BigOptimizer big;
  auto msg = error_of([&] { mg::save_optimizer(mnt / "optimizer.pt", big.opt); }, mg::ErrorKind::BadInput);
  EXPECT_NE(msg.find("optimizer.pt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("No space left on device"), std::string::npos) << msg;
  EXPECT_FALSE(leftovers_in(mnt)) << "the temporary file is removed";
  // The filesystem is usable again: a small state saves and loads.
  torch::nn::Linear small(3, 2);
  torch::optim::AdamW opt(small->parameters(), torch::optim::AdamWOptions(1e-3));
  EXPECT_NO_THROW(mg::save_optimizer(mnt / "optimizer.pt", opt));
  EXPECT_NO_THROW(mg::load_optimizer(mnt / "optimizer.pt", opt));
}

TEST_F(Integrity, RecipeSizeRules) {
  const std::string base =
      "task: {name: addition, digits: [1, 2]}\n"
      "model: {n_layer: 2, n_head: 2, d_model: 32, max_seq: 32}\n"
      "pretrain: {steps: 10}\n"
      "run: {dir: runs/x}\n";
  mg::Recipe r = mg::parse_recipe(base, "r.yaml");
  // 2-digit addition, cot: "99+99=891" then "<verify>", the derivation and "<yes>": 9 + 1 + 3 + 1.
  EXPECT_EQ(mg::longest_example_tokens(r), 14);
  EXPECT_EQ(mg::longest_example_tokens(mg::parse_recipe(base, "r.yaml", {"improve.verify.format=direct"})), 11);
  auto msg = error_of([&] { mg::parse_recipe(base, "r.yaml", {"task.digits=[1,40]"}); }, mg::ErrorKind::BadInput);
  EXPECT_EQ(msg.rfind("r.yaml: model.max_seq: 32 is too short", 0), 0u) << msg;
  // A curriculum value counts as much as the task's own range.
  msg = error_of([&] { mg::parse_recipe(base, "r.yaml", {"improve.curriculum={digits: [3, 7]}"}); },
                 mg::ErrorKind::BadInput);
  EXPECT_NE(msg.find("model.max_seq"), std::string::npos) << msg;

  msg = error_of([&] { mg::parse_recipe(base, "r.yaml", {"pretrain.batch=1000000000"}); }, mg::ErrorKind::BadInput);
  EXPECT_EQ(msg.rfind("r.yaml: pretrain.batch: too large", 0), 0u) << msg;
  // The bound is per step: the same batch in fewer, smaller micro-batches fits the bound's
  // device part, not the host part that holds the whole batch.
  auto need = mg::memory_lower_bound(r);
  EXPECT_GT(need.bytes, 0);
  EXPECT_LT(need.bytes, 1e9) << "a micro recipe needs far less than 1 GB";
  EXPECT_NO_THROW(mg::check_recipe_limits(r, 2 * need.bytes));
  msg = error_of([&] { mg::check_recipe_limits(r, need.bytes / 2); }, mg::ErrorKind::BadInput);
  EXPECT_NE(msg.find(need.key + ": too large"), std::string::npos) << msg;
}

// A plot that fails is one warning line with the cause, not a Python traceback in the log.
TEST_F(Integrity, FailedPlotIsOneWarningLine) {
  auto script = dir_ / "plot.py";
  write(script, "import sys\n\ndef draw():\n    raise ValueError('no rounds to draw')\n\ndraw()\n");
  ::setenv("MINDGAP_PLOT_SCRIPT", script.c_str(), 1);
  ::testing::internal::CaptureStderr();
  mg::plot_gap({dir_}, dir_ / "gap.png");
  std::string log = ::testing::internal::GetCapturedStderr();
  ::unsetenv("MINDGAP_PLOT_SCRIPT");
  EXPECT_NE(log.find("gap plot not drawn"), std::string::npos) << log;
  EXPECT_NE(log.find("ValueError: no rounds to draw"), std::string::npos) << log;
  EXPECT_EQ(log.find("Traceback"), std::string::npos) << log;
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 1) << log;
  EXPECT_FALSE(stdfs::exists(dir_ / "gap.png"));
}
