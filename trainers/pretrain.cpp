#include "trainers/pretrain.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "core/distributed/communicator.h"
#include "core/distributed/grad_sync.h"
#include "core/run/finite_check.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/numerics.h"
#include "core/report/progress.h"
#include "core/run/safetensors.h"
#include "models/flops.h"
#include "trainers/stages/evaluate_held_out.h"
#include "trainers/training/optimizer.h"
#include "trainers/training/pretrain_checkpoint.h"
#include "trainers/training/pretrain_data.h"
#include "trainers/training/schedule.h"
#include "trainers/training/snapshots.h"
#include "trainers/run/round_store.h"
#include "trainers/run/seeds.h"
#include "trainers/run/stop_hook.h"
#include "trainers/training/train_step.h"

namespace mg {
namespace {

struct EvalPoint {
  double greedy, verdict_accuracy, verdict_auroc;
};

EvalPoint evaluate_now(RunContext& ctx, Gpt& model, int n_prompts) {
  const Range d = base_difficulty(ctx.recipe.task);
  auto problems = eval_problems(*ctx.task, ctx.recipe.run.seed, d, n_prompts);
  EvalPoint e;
  e.greedy = greedy_accuracy(model, *ctx.tokenizer, *ctx.task, problems, *ctx.comm, ctx.device);
  auto v = verdict_eval(model, *ctx.tokenizer, *ctx.task, problems, ctx.recipe.improve.verify, ctx.recipe.run.seed,
                        *ctx.comm, ctx.device);
  e.verdict_accuracy = v.accuracy;
  e.verdict_auroc = v.auroc;
  return e;
}

// Every rank resumes from the same checkpoint, or none does (a rank that could not read it
// would otherwise train from another state than the others).
bool agree_on_checkpoint(Communicator& comm, const std::optional<PretrainProgress>& resumed) {
  if (comm.world_size() == 1) return true;
  auto steps = comm.all_gather_bytes(std::to_string(resumed ? resumed->step : -1));
  for (const auto& s : steps)
    if (s != steps[0]) return false;
  return true;
}

PretrainSummary summary_from_state(const nlohmann::json& state) {
  PretrainSummary s;
  s.greedy = state.value("greedy", 0.0);
  s.verdict_accuracy = state.value("verdict_accuracy", 0.0);
  s.verdict_auroc = state.value("verdict_auroc", 0.5);
  s.tokens_per_s = state.value("tokens_per_s", 0.0);
  s.flops = state.value("flops", 0.0);
  s.seconds = state.value("seconds", 0.0);
  return s;
}

}  // namespace

PretrainSummary pretrain(RunContext& ctx) {
  if (latest_good_round(ctx.run) >= 0) {
    auto state = load_round_state(ctx.run, 0);
    log::info("round-0000 exists: pretraining skipped");
    return summary_from_state(state);
  }
  const auto& cfg = ctx.recipe.pretrain;
  const Range difficulty = difficulty_for_round(ctx.recipe, 0);
  const uint64_t seed = ctx.recipe.run.seed;
  const auto partial_dir = ctx.run.round_tmp(0);
  Gpt model = make_model(ctx);
  auto optimizer = make_adamw(*model, cfg.lr, cfg.weight_decay);
  auto resumed = load_pretrain_checkpoint(partial_dir, model, *optimizer, ctx.device);
  if (!agree_on_checkpoint(*ctx.comm, resumed)) {
    // A load that failed half-way may have filled some tensors: start from a clean slate.
    model = make_model(ctx);
    optimizer = make_adamw(*model, cfg.lr, cfg.weight_decay);
    resumed.reset();
  }
  if (ctx.comm->world_size() > 1) broadcast_parameters(*model, *ctx.comm);
  const PretrainProgress from = resumed.value_or(PretrainProgress{});
  // Rows a killed run logged after the checkpoint this run starts from (and any row of a
  // later round: they are all redone): this run writes them again.
  ctx.metrics->drop([&from](const nlohmann::json& row) {
    const std::string kind = row.value("kind", "");
    return kind == "round" || ((kind == "pretrain_step" || kind == "eval") && row.value("step", 0) > from.step);
  });
  int skipped = from.skipped;
  if (resumed) log::info("resuming pretraining after step " + std::to_string(from.step) + " (its checkpoint in " +
                         partial_dir.filename().string() + ")");
  log::info("pretraining " + std::to_string(model->num_parameters()) + " parameters for " +
            std::to_string(cfg.steps) + " steps on " + ctx.device.str() + " (" + ctx.precision + ", " +
            std::to_string(ctx.comm->world_size()) + " rank(s))");

  const int eval_prompts_during = std::min(ctx.recipe.task.eval_prompts, 200);
  Progress progress("pretrain", cfg.steps, "steps", 5.0, ctx.writer());
  auto start = std::chrono::steady_clock::now() -
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(from.seconds));
  double tokens = from.tokens, loss_avg = 0, flops = from.flops;
  const double flops_token = flops_per_token(model->config(), ctx.recipe.model.max_seq / 2, /*training=*/true);
  int steps_done = cfg.steps;
  for (int step = from.step; step < cfg.steps; ++step) {
    std::vector<Example> batch;
    batch.reserve(cfg.batch);
    for (int i = 0; i < cfg.batch; ++i)
      batch.push_back(pretrain_example(*ctx.task, ctx.recipe, seed, static_cast<uint64_t>(step), static_cast<uint64_t>(i), difficulty));
    double lr = scheduled_lr(cfg.lr, step, cfg.steps, cfg.warmup, cfg.min_lr_ratio);
    auto r = train_step(ctx, model, *optimizer, batch, {}, cfg.grad_accum, lr, cfg.grad_clip, {"pretrain", 0, step + 1});
    skipped += r.skipped ? 1 : 0;
    auto tok_t = torch::tensor({static_cast<double>(r.tokens)}, torch::kFloat64);
    ctx.comm->all_reduce_sum(tok_t);
    tokens += tok_t[0].item<double>();
    flops += tok_t[0].item<double>() * flops_token;
    if (!r.skipped) loss_avg = step == from.step ? r.loss : 0.95 * loss_avg + 0.05 * r.loss;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char extra[128];
    std::snprintf(extra, sizeof extra, "loss %.4f  %.0f tok/s", loss_avg, tokens / std::max(secs, 1e-9));
    progress.update(step + 1, extra);
    if ((step + 1) % cfg.log_every == 0)
      ctx.metrics->write({{"kind", "pretrain_step"}, {"step", step + 1}, {"loss", r.loss}, {"lr", lr},
                          {"grad_norm", r.grad_norm}, {"tokens_per_s", tokens / std::max(secs, 1e-9)}, {"flops", flops},
                          {"nonfinite_skipped", skipped}});
    if (ctx.writer() && std::binary_search(cfg.keep_at.begin(), cfg.keep_at.end(), step + 1))
      save_snapshot(ctx.run, {step + 1, tokens, flops}, model);
    if ((step + 1) % cfg.log_every == 0) maybe_stop_after(0, "log" + std::to_string(step + 1));
    if ((step + 1) % cfg.eval_every == 0 && step + 1 < cfg.steps) {
      auto e = evaluate_now(ctx, model, eval_prompts_during);
      log::info("eval at step " + std::to_string(step + 1) + ": greedy " + std::to_string(e.greedy) +
                ", verdict accuracy " + std::to_string(e.verdict_accuracy) + ", verdict AUROC " +
                std::to_string(e.verdict_auroc));
      ctx.metrics->write({{"kind", "eval"}, {"step", step + 1}, {"greedy", e.greedy},
                          {"verdict_acc", e.verdict_accuracy}, {"verdict_auroc", e.verdict_auroc},
                          {"seconds", secs}, {"flops", flops}});
      if (e.greedy >= cfg.stop_at_greedy) {  // every rank saw the same all-reduced accuracy
        steps_done = step + 1;
        log::info("greedy " + std::to_string(e.greedy) + " reached pretrain.stop_at_greedy " +
                  std::to_string(cfg.stop_at_greedy) + ": pretraining stops at step " + std::to_string(steps_done));
        break;
      }
      if (ctx.writer()) save_pretrain_checkpoint(partial_dir, {step + 1, tokens, flops, secs, skipped}, model, *optimizer);
      ctx.comm->barrier();
      maybe_stop_after(0, "step" + std::to_string(step + 1));
    }
  }
  double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.finish();
  // Before the evaluation, which would fail on NaN scores far from the cause.
  require_finite(module_state(*model), ErrorKind::Internal, "pretraining",
                 "; round-0000 is not committed (training diverged: lower pretrain.lr)");
  auto e = evaluate_now(ctx, model, ctx.recipe.task.eval_prompts);
  PretrainSummary s{e.greedy, e.verdict_accuracy, e.verdict_auroc, tokens / std::max(train_secs, 1e-9), flops, train_secs};
  nlohmann::json state = {{"round", 0}, {"step", steps_done}, {"greedy", s.greedy},
                          {"verdict_accuracy", s.verdict_accuracy}, {"verdict_auroc", s.verdict_auroc},
                          {"tokens_per_s", s.tokens_per_s}, {"flops", s.flops}, {"seconds", s.seconds},
                          {"tokens", tokens}, {"device", ctx.device.str()}, {"precision", ctx.precision},
                          {"world_size", ctx.comm->world_size()}, {"parameters", model->num_parameters()},
                          {"nonfinite_skipped", skipped},
                          {"numerics", numerics_here(ctx.device, ctx.recipe.run.threads)}};
  nlohmann::json final_eval = {{"kind", "eval"}, {"step", steps_done}, {"greedy", s.greedy}, {"verdict_acc", s.verdict_accuracy},
                               {"verdict_auroc", s.verdict_auroc}, {"seconds", train_secs}, {"flops", flops}, {"final", true}};
  if (const nlohmann::json p = pass_at_record(ctx, model, 0); !p.is_null()) state["pass_at"] = final_eval["pass_at"] = p;
  ctx.metrics->write(final_eval);
  log::info("pretrained in " + std::to_string(static_cast<int>(train_secs)) + " s: greedy " + std::to_string(s.greedy) +
            ", verdict accuracy " + std::to_string(s.verdict_accuracy) + ", verdict AUROC " +
            std::to_string(s.verdict_auroc));
  // Round 0 commits as every round does; its files beyond the record are the weights and the
  // optimizer, and the mid-training checkpoint goes once they are written.
  RoundStore store(ctx, 0);
  store.commit(state, [&](const std::filesystem::path& dir) {
    remove_pretrain_checkpoint(dir);
    save_safetensors(dir / "model.safetensors", module_state(*model), {{"round", "0"}});
    save_optimizer(dir / "optimizer.pt", *optimizer);
  });
  return s;
}

}  // namespace mg
