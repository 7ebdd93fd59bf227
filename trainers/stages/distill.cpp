#include "trainers/stages/distill.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "core/errors.h"
#include "core/run/finite_check.h"
#include "core/run/safetensors.h"
#include "core/report/progress.h"
#include "trainers/training/optimizer.h"
#include "trainers/run/stop_hook.h"
#include "trainers/stages/distill_batches.h"
#include "trainers/training/train_step.h"

namespace mg {

DistillSummary distill(RunContext& ctx, Gpt& model, int round, const std::vector<DistillExample>& examples) {
  const auto& cfg = ctx.recipe.improve.distill;
  DistillSummary out;
  out.examples = static_cast<int>(examples.size());
  if (cfg.steps == 0) return out;
  DistillBatches batches(ctx, round, examples);
  auto optimizer = make_adamw(*model, cfg.lr, ctx.recipe.pretrain.weight_decay);
  Progress progress("distill r" + std::to_string(round), cfg.steps, "steps", 5.0, ctx.writer());
  auto start = std::chrono::steady_clock::now();
  std::vector<double> losses;  // of the steps applied
  std::vector<Example> batch;
  std::vector<float> weights;
  for (int step = 0; step < cfg.steps; ++step) {
    batches.next(batch, weights);
    const double lr = distill_lr(cfg, step);
    auto res = train_step(ctx, model, *optimizer, batch, weights, 1, lr, ctx.recipe.pretrain.grad_clip,
                          {"distill", round, step + 1});
    maybe_stop_after(round, "distill" + std::to_string(step + 1));
    if (res.skipped) {
      ++out.skipped;
      continue;
    }
    losses.push_back(res.loss);
    char extra[64];
    std::snprintf(extra, sizeof extra, "loss %.4f", res.loss);
    progress.update(step + 1, extra);
  }
  progress.finish();
  if (!losses.empty()) {
    out.first_loss = losses.front();
    out.last_loss = losses.back();
    // The first step's loss is the model as the previous round left it (measured before any
    // update); a diverging rate blows the loss up within a few steps, so a mean over the first
    // steps would already include the blow-up. The end is a mean: one step is too noisy.
    out.start_loss = losses.front();
    const size_t w = loss_window(static_cast<int>(losses.size()));
    out.end_loss = std::accumulate(losses.end() - w, losses.end(), 0.0) / static_cast<double>(w);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

namespace {

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double number_or(const std::map<std::string, std::string>& m, const std::string& key, double fallback) {
  auto it = m.find(key);
  if (it == m.end()) return fallback;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  return end && *end == '\0' && end != it->second.c_str() ? v : fallback;
}

}  // namespace

std::map<std::string, std::string> distill_metadata(const DistillSummary& s) {
  return {{"distill_start_loss", exact(s.start_loss)},
          {"distill_end_loss", exact(s.end_loss)},
          {"distill_nonfinite_skipped", std::to_string(s.skipped)}};
}

DistillSummary distill_summary_from(const std::map<std::string, std::string>& metadata) {
  DistillSummary s;
  s.start_loss = number_or(metadata, "distill_start_loss", 0);
  s.end_loss = number_or(metadata, "distill_end_loss", 0);
  s.skipped = static_cast<int>(number_or(metadata, "distill_nonfinite_skipped", 0));
  return s;
}

void refuse_divergence(const DistillSummary& s, double max_ratio, int round) {
  if (max_ratio <= 0 || !(s.start_loss > 0)) return;
  const double ratio = s.end_loss / s.start_loss;
  if (ratio <= max_ratio) return;  // a NaN end loss cannot get here: its steps were never applied
  char msg[512];
  std::snprintf(msg, sizeof msg,
                "round %d: distillation diverged: its loss went from %.3f (first step) to %.3f (mean of the last "
                "steps), %.1f times where it started, above improve.distill.max_loss_ratio %g. The round was not "
                "committed; the run keeps round %d. Lower improve.distill.lr (a new run.dir, or `mindgap improve "
                "--from` this run), or raise improve.distill.max_loss_ratio (0: off) to keep such a round",
                round, s.start_loss, s.end_loss, ratio, max_ratio, round - 1);
  fail_input(msg);
}

DistillSummary distill_round(RunContext& ctx, Gpt& model, int round, const std::vector<DistillExample>& examples) {
  const auto& cfg = ctx.recipe.improve.distill;
  if (cfg.init == DistillInit::Base) load_round_weights(ctx, 0, model);
  DistillSummary distilled = distill(ctx, model, round, examples);
  // Before anything of it is saved: every rank saw the same (all-reduced) losses.
  refuse_divergence(distilled, cfg.max_loss_ratio, round);
  require_finite(module_state(*model), ErrorKind::Internal, "round " + std::to_string(round) + ": distillation",
                 "; the round is not committed (training diverged: lower improve.distill.lr)");
  return distilled;
}

void save_distilled(const std::filesystem::path& file, Gpt& model, const DistillSummary& summary, int round) {
  auto part = file;
  part += ".part";
  auto meta = distill_metadata(summary);
  meta["round"] = std::to_string(round);
  save_safetensors(part, module_state(*model), meta);
  std::filesystem::rename(part, file);
}

DistillSummary load_distilled(const std::filesystem::path& file, const RunContext& ctx, Gpt& model) {
  std::map<std::string, std::string> meta;
  auto state = load_safetensors(file, &meta);
  load_module_state(*model, state, file.string());
  model->to(ctx.device);
  return distill_summary_from(meta);
}

}  // namespace mg
