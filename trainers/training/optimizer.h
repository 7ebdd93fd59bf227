#pragma once
// AdamW with weight decay on matrices only (embeddings included, LayerNorm gains and biases
// excluded), as GPT training usually does; and a step helper with clipping and a set lr.
#include <torch/torch.h>

#include <memory>

namespace mg {

std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& model, double lr, double weight_decay);
void set_lr(torch::optim::Optimizer& opt, double lr);
// Clips the global gradient norm (when clip > 0) and returns the norm before clipping.
double clip_gradients(torch::nn::Module& model, double clip);

}  // namespace mg
