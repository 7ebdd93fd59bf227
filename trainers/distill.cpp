#include "trainers/distill.h"

#include <chrono>
#include <numeric>
#include <random>

#include "core/progress.h"
#include "core/tasks/verification.h"
#include "trainers/optimizer.h"
#include "trainers/pretrain_data.h"
#include "trainers/schedule.h"
#include "trainers/seeds.h"
#include "trainers/train_step.h"

namespace mg {

DistillSummary distill(RunContext& ctx, Gpt& model, int round, const std::vector<DistillExample>& examples) {
  const auto& cfg = ctx.recipe.improve.distill;
  const uint64_t seed = ctx.recipe.run.seed, r = static_cast<uint64_t>(round);
  DistillSummary out;
  out.examples = static_cast<int>(examples.size());
  if (cfg.steps == 0) return out;
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 shuffle_rng(derive_seed(seed, SeedPurpose::DistillData, {r}));
  std::shuffle(order.begin(), order.end(), shuffle_rng);

  const int replay_n = examples.empty() ? cfg.batch : static_cast<int>(std::lround(cfg.replay * cfg.batch));
  const int fresh_n = cfg.batch - replay_n;
  const Range base = difficulty_for_round(ctx.recipe, 0);
  auto optimizer = make_adamw(*model, cfg.lr, ctx.recipe.pretrain.weight_decay);
  Progress progress("distill r" + std::to_string(round), cfg.steps, "steps", 5.0, ctx.writer());
  auto start = std::chrono::steady_clock::now();
  size_t cursor = 0;
  for (int step = 0; step < cfg.steps; ++step) {
    std::vector<Example> batch;
    std::vector<float> weights;
    for (int i = 0; i < fresh_n && !examples.empty(); ++i, ++cursor) {
      const DistillExample& e = examples[order[cursor % order.size()]];
      batch.push_back(generation_example(e.problem));
      weights.push_back(static_cast<float>(e.weight));
    }
    for (int i = 0; i < replay_n; ++i) {
      // Replay draws its own stream (round, step), apart from pretraining's.
      uint64_t rs = derive_seed(seed, SeedPurpose::Replay, {r});
      batch.push_back(pretrain_example(*ctx.task, ctx.recipe, rs, static_cast<uint64_t>(step), static_cast<uint64_t>(i), base));
      weights.push_back(1.0f);
    }
    double lr = scheduled_lr(cfg.lr, step, cfg.steps, std::min(10, cfg.steps / 10), 0.1);
    auto res = train_step(ctx, model, *optimizer, batch, weights, 1, lr, ctx.recipe.pretrain.grad_clip);
    if (step == 0) out.first_loss = res.loss;
    out.last_loss = res.loss;
    char extra[64];
    std::snprintf(extra, sizeof extra, "loss %.4f", res.loss);
    progress.update(step + 1, extra);
  }
  progress.finish();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace mg
