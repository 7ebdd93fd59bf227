#pragma once
// Token batches for teacher-forced training and scoring: examples (text segments with loss
// weights) -> right-padded inputs, next-token targets and per-token weights.
#include <torch/torch.h>

#include <vector>

#include "core/tasks/task.h"
#include "core/tasks/verification.h"
#include "core/tokenizer/tokenizer.h"

namespace mg {

struct TokenBatch {
  torch::Tensor inputs;   // int64 [B, T]
  torch::Tensor targets;  // int64 [B, T]: inputs shifted by one
  torch::Tensor weights;  // float32 [B, T]: loss weight of predicting targets[b, t]
  int64_t tokens = 0;     // non-pad input tokens (throughput)
};

// Examples longer than max_seq + 1 tokens are bad input (the recipe's model.max_seq is too small).
TokenBatch make_batch(const std::vector<Example>& examples, const Tokenizer& tokenizer, int max_seq,
                      const std::vector<float>& example_weights = {});

}  // namespace mg
