#pragma once
// One data-parallel optimizer step on a global batch of examples, shared by pretraining and
// distillation. Rank r takes examples i with i % world == r; the loss is the weighted mean over
// the whole global batch, so the update does not depend on the number of ranks beyond rounding.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "trainers/run/run_context.h"

namespace mg {

struct StepResult {
  double loss = 0;         // weighted mean token loss over the global batch
  int64_t tokens = 0;      // input tokens processed by this rank
  double grad_norm = 0;
  bool skipped = false;    // non-finite loss or gradient norm under run.nonfinite=skip: no update
};

// Where a step runs, for messages: "pretrain" or "distill", the round, the step (from 1).
struct StepPlace {
  std::string stage;
  int round = 0;
  int step = 0;
  std::string describe() const;  // "distill, round 2, step 17"
};

// The step is also a safe point (core/run/stop_signal.h): a signal on any rank stops every rank
// before the step changes anything. A non-finite loss or gradient norm (identical on every
// rank: both are all-reduced) is never applied: under run.nonfinite=stop training ends with
// an Internal error naming the place; under skip the update is dropped and the result says so.
StepResult train_step(RunContext& ctx, Gpt& model, torch::optim::Optimizer& optimizer,
                      const std::vector<Example>& global_batch, const std::vector<float>& example_weights,
                      int grad_accum, double lr, double grad_clip, const StepPlace& place);

// The policy on its own: true when the step may be applied; false when it is to be skipped
// (policy "skip"); throws Error(Internal) under "stop". Costs two comparisons.
bool accept_step(double loss, double grad_norm, const std::string& policy, const StepPlace& place);

}  // namespace mg
