#include "trainers/training/snapshots.h"

#include <map>

#include "core/errors.h"
#include "core/run/manifest.h"
#include "core/run/safetensors.h"

namespace mg {
namespace {

std::string snapshot_name(int step) { return "step-" + std::to_string(step) + ".safetensors"; }

double metadata_number(const std::map<std::string, std::string>& meta, const std::string& key,
                       const std::filesystem::path& path) {
  const auto it = meta.find(key);
  if (it == meta.end()) fail_input(path.string() + ": no '" + key + "' in its metadata (not a pretraining snapshot)");
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    fail_input(path.string() + ": metadata '" + key + "' is not a number: '" + it->second + "'");
  }
}

std::string exact_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::filesystem::path snapshot_path(const RunDir& run, int step) {
  return run.root / "snapshots" / snapshot_name(step);
}

void save_snapshot(const RunDir& run, const SnapshotInfo& info, Gpt& model) {
  const auto path = snapshot_path(run, info.step);
  std::filesystem::create_directories(path.parent_path());
  save_safetensors(path, module_state(*model),
                   {{"step", std::to_string(info.step)}, {"tokens", exact_text(info.tokens)},
                    {"flops", exact_text(info.flops)}});
  set_manifest_entry(path.parent_path(), path.filename().string(), sha256_file(path));
}

SnapshotInfo load_snapshot(const RunDir& run, int step, Gpt& model, const torch::Device& device) {
  const auto path = snapshot_path(run, step);
  if (!std::filesystem::exists(path))
    fail_input(path.string() + ": missing: pretraining did not keep step " + std::to_string(step) +
               " (pretrain.keep_at); remove the run directory to pretrain it again with that step kept");
  std::string problem;
  if (!verify_manifest(path.parent_path(), &problem, {path.filename().string()}))
    fail_input(path.parent_path().string() + ": " + problem);
  std::map<std::string, std::string> meta;
  auto state = load_safetensors(path, &meta);
  load_module_state(*model, state, path.string());
  model->to(device);
  SnapshotInfo info;
  info.step = static_cast<int>(metadata_number(meta, "step", path));
  info.tokens = metadata_number(meta, "tokens", path);
  info.flops = metadata_number(meta, "flops", path);
  if (info.step != step) fail_input(path.string() + ": holds step " + std::to_string(info.step) + ", not " + std::to_string(step));
  return info;
}

}  // namespace mg
