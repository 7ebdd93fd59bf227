#pragma once
// One pre-LayerNorm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)) with a 4x GELU MLP.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/attention.h"
#include "models/gpt_config.h"

namespace mg {

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const GptConfig& c, int64_t layer);
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in);

  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  CausalSelfAttention attn{nullptr};
  torch::nn::Linear fc{nullptr};    // D -> 4D
  torch::nn::Linear proj{nullptr};  // 4D -> D, a residual projection (scaled init)

 private:
  double dropout_;
};
TORCH_MODULE(Block);

}  // namespace mg
