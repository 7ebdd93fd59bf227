#pragma once
// The weighted next-token loss shared by pretraining and distillation, through the fused
// log-prob kernel (only positions with a non-zero weight are scored).
#include <torch/torch.h>

#include "models/gpt.h"
#include "trainers/training/batch.h"

namespace mg {

struct WeightedLoss {
  torch::Tensor sum;   // sum over scored tokens of weight * -log p(target); differentiable
  double weight = 0;   // sum of the weights
  int64_t scored = 0;  // tokens with a non-zero weight
};

WeightedLoss weighted_loss(Gpt& model, const TokenBatch& batch, const torch::Device& device);

}  // namespace mg
