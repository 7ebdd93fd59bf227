#include "core/run/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/run/atomic_file.h"
#include "core/errors.h"
#include "core/run/finite_check.h"

namespace mg {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

// The data section is copied to and from memory as is: that is the file's byte order only on
// a little-endian host.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32}, {"F64", torch::kFloat64}, {"BF16", torch::kBFloat16},
    {"F16", torch::kFloat16}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
    {"I16", torch::kInt16},   {"I8", torch::kInt8},     {"U8", torch::kUInt8},
    {"BOOL", torch::kBool},
};

// The reference implementation refuses headers over 100 MB; a larger length means corruption.
constexpr uint64_t kMaxHeader = 100u << 20;

const char* dtype_name(torch::ScalarType t) {
  for (const auto& d : kDtypes)
    if (d.type == t) return d.name;
  return nullptr;
}

bool dtype_from_name(const std::string& name, torch::ScalarType* out) {
  for (const auto& d : kDtypes)
    if (name == d.name) {
      *out = d.type;
      return true;
    }
  return false;
}

std::string shape_str(c10::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// One tensor's entry of the header, checked against the data section's size.
struct Entry {
  std::string name;
  torch::ScalarType type;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& where, const std::string& name, const json& v, uint64_t data_size) {
  auto bad = [&](const std::string& what) -> Entry { fail_input(where + ": tensor '" + name + "': " + what); };
  if (!v.is_object()) return bad("header entry is not an object");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) return bad(std::string("header entry lacks \"") + key + "\"");
  Entry e;
  e.name = name;
  if (!v["dtype"].is_string()) return bad("dtype is not a string");
  std::string dt = v["dtype"].get<std::string>();
  if (!dtype_from_name(dt, &e.type)) return bad("unknown dtype '" + dt + "'");
  const json& shape = v["shape"];
  if (!shape.is_array()) return bad("shape is not an array");
  uint64_t numel = 1;
  for (const auto& d : shape) {
    if (!d.is_number_unsigned()) return bad("shape holds something other than a non-negative integer");
    uint64_t n = d.get<uint64_t>();
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        (n != 0 && numel > std::numeric_limits<uint64_t>::max() / n))
      return bad("shape is too large");
    numel *= n;
    e.shape.push_back(static_cast<int64_t>(n));
  }
  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    return bad("data_offsets is not a pair of non-negative integers");
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  if (e.begin > e.end || e.end > data_size)
    return bad("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
               "] out of range: the data section holds " + std::to_string(data_size) +
               " bytes (truncated file?)");
  uint64_t elem = c10::elementSize(e.type);
  if (numel > std::numeric_limits<uint64_t>::max() / elem || numel * elem != e.end - e.begin)
    return bad("shape " + shape_str(e.shape) + " of " + dt + " needs " + std::to_string(numel) + " x " +
               std::to_string(elem) + " bytes but data_offsets span " + std::to_string(e.end - e.begin));
  return e;
}

}  // namespace

void save_safetensors(const stdfs::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string where = path.string();
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__")
      fail_input(where + ": invalid tensor name '" + name + "'");
    if (!seen.insert(name).second) fail_input(where + ": tensor name '" + name + "' appears twice");
    if (!t.defined()) fail_input(where + ": tensor '" + name + "' is undefined");
    const char* dt = dtype_name(t.scalar_type());
    if (!dt) fail_input(where + ": tensor '" + name + "': dtype " + std::string(c10::toString(t.scalar_type())) +
                        " cannot be stored in safetensors here");
    auto c = t.detach().to(torch::kCPU).contiguous();
    uint64_t nbytes = c.nbytes();
    header[name] = {{"dtype", dt}, {"shape", c.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    data.push_back(std::move(c));
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // a name that is not valid UTF-8
    fail_input(where + ": cannot encode the header (" + e.what() + ")");
  }
  // Pad with spaces (valid JSON whitespace) so that the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  AtomicFile out(path);
  out.write(len, sizeof len);
  out.write(text.data(), text.size());
  for (const auto& c : data)
    if (c.nbytes() > 0) out.write(c.data_ptr(), c.nbytes());
  out.commit();
}

NamedTensors load_safetensors(const stdfs::path& path, std::map<std::string, std::string>* metadata) {
  const std::string where = path.string();
  std::error_code ec;
  uint64_t file_size = stdfs::file_size(path, ec);
  if (ec) fail_input(where + ": cannot read (" + ec.message() + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(where + ": cannot open for reading");
  if (file_size < 8)
    fail_input(where + ": not a safetensors file: " + std::to_string(file_size) +
               " bytes, shorter than the 8-byte header length");
  uint8_t len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(len[i]) << (8 * i);
  if (n > file_size - 8 || n > kMaxHeader)
    fail_input(where + ": not a safetensors file or truncated: header length " + std::to_string(n) +
               " but the file has " + std::to_string(file_size - 8) + " bytes after it");
  std::string text(n, '\0');
  in.read(text.data(), static_cast<std::streamsize>(n));
  if (!in) fail_input(where + ": could not read the header");
  json header = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) fail_input(where + ": the header is not valid JSON (corrupt file?)");
  if (!header.is_object()) fail_input(where + ": the header is not a JSON object");

  const uint64_t data_start = 8 + n;
  const uint64_t data_size = file_size - data_start;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail_input(where + ": __metadata__ is not an object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) fail_input(where + ": __metadata__ value of '" + mk + "' is not a string");
        if (metadata) (*metadata)[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(where, key, value, data_size));
  }
  // File order: the order the tensors were written in. Overlapping ranges mean corruption.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      fail_input(where + ": tensors '" + entries[i - 1].name + "' and '" + entries[i].name +
                 "' overlap in the data section");

  NamedTensors out;
  out.reserve(entries.size());
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.type));
    uint64_t nbytes = e.end - e.begin;
    if (nbytes > 0) {
      in.seekg(static_cast<std::streamoff>(data_start + e.begin));
      in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(nbytes));
      if (!in) fail_input(where + ": tensor '" + e.name + "': could not read its data (truncated file?)");
    }
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

NamedTensors module_state(const torch::nn::Module& m) {
  NamedTensors state;
  for (const auto& item : m.named_parameters(true)) state.emplace_back(item.key(), item.value().detach());
  for (const auto& item : m.named_buffers(true)) state.emplace_back(item.key(), item.value().detach());
  return state;
}

void load_module_state(torch::nn::Module& m, const NamedTensors& state, const std::string& source) {
  std::unordered_map<std::string, const torch::Tensor*> given;
  for (const auto& [name, t] : state)
    if (!given.emplace(name, &t).second) fail_input(source + ": tensor '" + name + "' appears twice");

  std::vector<std::pair<std::string, torch::Tensor>> targets;
  for (const auto& item : m.named_parameters(true)) targets.emplace_back(item.key(), item.value());
  for (const auto& item : m.named_buffers(true)) targets.emplace_back(item.key(), item.value());

  // Check everything before copying anything, so that a mismatch leaves the module untouched.
  std::vector<std::string> missing;
  for (const auto& [name, dst] : targets) {
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
      continue;
    }
    if (it->second->sizes() != dst.sizes())
      fail_input(source + ": tensor '" + name + "' has shape " + shape_str(it->second->sizes()) +
                 " but the model expects " + shape_str(dst.sizes()) + " (a checkpoint of another model config?)");
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 5) list += ", ... (" + std::to_string(missing.size()) + " in all)";
    fail_input(source + ": missing tensors the model needs: " + list);
  }
  if (given.size() != targets.size()) {
    std::set<std::string> known;
    for (const auto& [name, dst] : targets) known.insert(name);
    for (const auto& [name, t] : state)
      if (!known.count(name)) fail_input(source + ": tensor '" + name + "' is not part of the model");
  }
  // A NaN in one tensor would turn every output into NaN: refuse it here, naming it.
  require_finite(state, ErrorKind::BadInput, source,
                 " (a damaged checkpoint, or weights saved from a diverged training); refusing to use it");
  torch::NoGradGuard no_grad;
  for (auto& [name, dst] : targets) dst.copy_(*given.at(name));
}

}  // namespace mg
