#pragma once
// Stage 0: pretrain the model from scratch on the generation + verification mixture and write
// round-0000 (weights, optimizer, state.json) atomically. Periodic held-out evaluation.
#include "trainers/run/run_context.h"

namespace mg {

struct PretrainSummary {
  double greedy = 0, verdict_accuracy = 0, verdict_auroc = 0.5;
  double tokens_per_s = 0, flops = 0, seconds = 0;
};

// Skips the work (and returns the stored summary) when round-0000 already exists.
PretrainSummary pretrain(RunContext& ctx);

}  // namespace mg
