#include "models/block.h"

#include <torch/torch.h>

namespace mg {

BlockImpl::BlockImpl(const GptConfig& c, int64_t layer) : dropout_(c.dropout) {
  const int64_t d = c.d_model;
  ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  attn = register_module("attn", CausalSelfAttention(c, layer));
  ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  fc = register_module("fc", torch::nn::Linear(d, 4 * d));
  proj = register_module("proj", torch::nn::Linear(4 * d, d));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const AttentionInputs& in) {
  auto h = x + attn->forward(ln1(x), in);
  // GPT-2's tanh approximation of GELU.
  auto m = proj(torch::gelu(fc(ln2(h)), "tanh"));
  if (dropout_ > 0 && is_training()) m = torch::dropout(m, dropout_, true);
  return h + m;
}

}  // namespace mg
