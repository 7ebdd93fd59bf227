#pragma once
// One data-parallel optimizer step on a global batch of examples, shared by pretraining and
// distillation. Rank r takes examples i with i % world == r; the loss is the weighted mean over
// the whole global batch, so the update does not depend on the number of ranks beyond rounding.
#include <torch/torch.h>

#include <vector>

#include "trainers/run_context.h"

namespace mg {

struct StepResult {
  double loss = 0;         // weighted mean token loss over the global batch
  int64_t tokens = 0;      // input tokens processed by this rank
  double grad_norm = 0;
};

StepResult train_step(RunContext& ctx, Gpt& model, torch::optim::Optimizer& optimizer,
                      const std::vector<Example>& global_batch, const std::vector<float>& example_weights,
                      int grad_accum, double lr, double grad_clip);

}  // namespace mg
