#include "trainers/training/loss.h"

#include "kernels/logprob.h"

namespace mg {

WeightedLoss weighted_loss(Gpt& model, const TokenBatch& batch, const torch::Device& device) {
  auto inputs = batch.inputs.to(device);
  auto hidden = model->hidden(inputs);  // [B, T, D]
  const int64_t D = hidden.size(-1);
  auto weights = batch.weights.reshape({-1});
  auto idx = weights.nonzero().reshape({-1});
  WeightedLoss out;
  out.scored = idx.numel();
  out.weight = weights.sum().item<double>();
  if (out.scored == 0) {
    out.sum = hidden.sum() * 0.0;  // keeps the graph valid for a batch with nothing to learn
    return out;
  }
  auto idx_dev = idx.to(device);
  auto h = hidden.reshape({-1, D}).index_select(0, idx_dev);
  auto targets = batch.targets.reshape({-1}).index_select(0, idx).to(device);
  auto w = weights.index_select(0, idx).to(device);
  auto lp = kernels::token_logprob(h, model->unembedding(), targets);
  out.sum = -(lp.to(torch::kFloat32) * w).sum();
  return out;
}

}  // namespace mg
