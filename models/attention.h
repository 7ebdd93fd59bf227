#pragma once
// Multi-head causal self-attention through torch::scaled_dot_product_attention, which picks the
// fused (flash) kernel on CPU and GPU when no explicit mask is given.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "models/gpt_config.h"
#include "models/kv_cache.h"

namespace mg {

// What one forward pass tells every attention layer besides its input.
struct AttentionInputs {
  torch::Tensor rope_cos, rope_sin;  // rotary tables broadcastable to [B,H,T,hd/2]; undefined: no rotary
  torch::Tensor mask;  // bool [B,1,T,Tk], true = may attend; undefined: plain causal attention
  KvCache* cache = nullptr;  // decoding: keys/values of earlier slots are read from and added to it
};

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const GptConfig& c, int64_t layer);
  // x [B,T,D] -> [B,T,D] (before the residual add).
  torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in);

  torch::nn::Linear qkv{nullptr};   // D -> 3D, q|k|v
  torch::nn::Linear proj{nullptr};  // D -> D, a residual projection (scaled init)

 private:
  int64_t layer_, n_head_, head_dim_;
  double dropout_;
};
TORCH_MODULE(CausalSelfAttention);

}  // namespace mg
