#include "trainers/stages/distill_batches.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/tasks/verification.h"
#include "trainers/run/seeds.h"
#include "trainers/training/pretrain_data.h"
#include "trainers/training/schedule.h"

namespace mg {

DistillBatches::DistillBatches(const RunContext& ctx, int round, const std::vector<DistillExample>& examples)
    : ctx_(ctx), examples_(examples), round_(static_cast<uint64_t>(round)), order_(examples.size()) {
  const auto& cfg = ctx.recipe.improve.distill;
  std::iota(order_.begin(), order_.end(), 0);
  std::mt19937_64 shuffle_rng(derive_seed(ctx.recipe.run.seed, SeedPurpose::DistillData, {round_}));
  std::shuffle(order_.begin(), order_.end(), shuffle_rng);
  replay_n_ = examples.empty() ? cfg.batch : static_cast<int>(std::lround(cfg.replay * cfg.batch));
  fresh_n_ = cfg.batch - replay_n_;
}

void DistillBatches::next(std::vector<Example>& batch, std::vector<float>& weights) {
  batch.clear();
  weights.clear();
  for (int i = 0; i < fresh_n_ && !examples_.empty(); ++i, ++cursor_) {
    const DistillExample& e = examples_[order_[cursor_ % order_.size()]];
    batch.push_back(generation_example(e.problem));
    weights.push_back(static_cast<float>(e.weight));
  }
  const Range base = difficulty_for_round(ctx_.recipe, 0);
  // Replay draws its own stream (round, step), apart from pretraining's.
  const uint64_t rs = derive_seed(ctx_.recipe.run.seed, SeedPurpose::Replay, {round_});
  for (int i = 0; i < replay_n_; ++i) {
    batch.push_back(pretrain_example(*ctx_.task, ctx_.recipe, rs, step_, static_cast<uint64_t>(i), base));
    weights.push_back(1.0f);
  }
  ++step_;
}

double distill_lr(const DistillConfig& cfg, int step) {
  return scheduled_lr(cfg.lr, step, cfg.steps, std::min(10, cfg.steps / 10), 0.1);
}

}  // namespace mg
