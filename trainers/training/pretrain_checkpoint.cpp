#include "trainers/training/pretrain_checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/run/finite_check.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/run/safetensors.h"

namespace mg {

namespace stdfs = std::filesystem;

namespace {

const char* kIndex = "pretrain.json";

std::string step_name(int step, const char* suffix) {
  char name[64];
  std::snprintf(name, sizeof name, "pretrain-%07d%s", step, suffix);
  return name;
}

// Every checkpoint file (pretrain*) but the index and the files of `keep_step`; with
// keep_step -1, every one.
void remove_checkpoint_files(const stdfs::path& dir, int keep_step) {
  std::error_code ec;
  if (!stdfs::is_directory(dir, ec)) return;
  const std::string kept_prefix = step_name(keep_step, "");
  for (const auto& e : stdfs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("pretrain", 0) != 0) continue;
    bool keep = keep_step >= 0 && (name == kIndex || name.rfind(kept_prefix, 0) == 0);
    if (!keep) stdfs::remove(e.path(), ec);
  }
}

}  // namespace

void save_pretrain_checkpoint(const stdfs::path& dir, const PretrainProgress& progress, Gpt& model,
                              torch::optim::Optimizer& optimizer) {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) fail_input(dir.string() + ": cannot create (" + ec.message() + ")");
  // A checkpoint to resume from must be one the loader accepts.
  require_finite(module_state(*model), ErrorKind::Internal, "pretraining at step " + std::to_string(progress.step),
                 "; no checkpoint is saved (training diverged: lower pretrain.lr)");
  const std::string weights = step_name(progress.step, ".safetensors");
  const std::string opt = step_name(progress.step, ".optimizer.pt");
  save_safetensors(dir / weights, module_state(*model), {{"round", "0"}, {"step", std::to_string(progress.step)}});
  save_optimizer(dir / opt, optimizer);
  nlohmann::json index = {{"step", progress.step}, {"tokens", progress.tokens}, {"flops", progress.flops},
                          {"seconds", progress.seconds}, {"nonfinite_skipped", progress.skipped},
                          {"model", weights}, {"optimizer", opt}};
  fs::write_file_atomic(dir / kIndex, index.dump(2));
  remove_checkpoint_files(dir, progress.step);
}

std::optional<PretrainProgress> load_pretrain_checkpoint(const stdfs::path& dir, Gpt& model,
                                                         torch::optim::Optimizer& optimizer,
                                                         const torch::Device& device) {
  if (!fs::exists(dir / kIndex)) return std::nullopt;
  try {
    auto index = nlohmann::json::parse(fs::read_file(dir / kIndex));
    PretrainProgress p;
    p.step = index.at("step").get<int>();
    p.tokens = index.at("tokens").get<double>();
    p.flops = index.at("flops").get<double>();
    p.seconds = index.at("seconds").get<double>();
    p.skipped = index.value("nonfinite_skipped", 0);
    auto weights = dir / index.at("model").get<std::string>();
    load_module_state(*model, load_safetensors(weights), weights.string());
    model->to(device);
    load_optimizer(dir / index.at("optimizer").get<std::string>(), optimizer);
    return p;
  } catch (const std::exception& e) {  // mg::Error from the loaders, or malformed JSON
    log::warn((dir / kIndex).string() + ": pretraining checkpoint unusable (" + e.what() +
              "); pretraining starts again from step 0");
    return std::nullopt;
  }
}

void remove_pretrain_checkpoint(const stdfs::path& dir) { remove_checkpoint_files(dir, -1); }

}  // namespace mg
