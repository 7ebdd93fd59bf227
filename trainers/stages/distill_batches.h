#pragma once
// The batches of a round's distillation, step by step: `batch` examples, a `replay` share of
// them pretraining-style examples (their own stream per round and step, at pretraining's
// difficulty), the rest the round's examples, shuffled once per round and taken in turn. A pure
// function of (seed, round, step) and the examples, so that a resumed round and
// tools/bench/bench_round (which hands them to its PyTorch twin) build the same batches.
#include <cstddef>
#include <vector>

#include "core/tasks/task.h"
#include "trainers/run/run_context.h"
#include "trainers/stages/distill_data.h"

namespace mg {

class DistillBatches {
 public:
  DistillBatches(const RunContext& ctx, int round, const std::vector<DistillExample>& examples);
  // The next step's examples and their loss weights (steps 0, 1, 2, ... in turn).
  void next(std::vector<Example>& batch, std::vector<float>& weights);

 private:
  const RunContext& ctx_;
  const std::vector<DistillExample>& examples_;
  uint64_t round_;
  std::vector<size_t> order_;
  size_t cursor_ = 0;
  int fresh_n_ = 0, replay_n_ = 0;
  uint64_t step_ = 0;
};

// The learning rate of distillation step `step` (0-based) of `steps`: warm-up, then decay.
double distill_lr(const DistillConfig& cfg, int step);

}  // namespace mg
