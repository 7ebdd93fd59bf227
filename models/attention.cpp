#include "models/attention.h"

#include <torch/torch.h>

#include "core/errors.h"
#include "models/rope.h"

namespace mg {

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GptConfig& c, int64_t layer)
    : layer_(layer), n_head_(c.n_head), head_dim_(c.head_dim()), dropout_(c.dropout) {
  qkv = register_module("qkv", torch::nn::Linear(c.d_model, 3 * c.d_model));
  proj = register_module("proj", torch::nn::Linear(c.d_model, c.d_model));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x, const AttentionInputs& in) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  // [B,T,3D] -> [3,B,H,T,hd]: views only; SDPA reads strided q, k, v without copies.
  auto parts = qkv(x).view({B, T, 3, n_head_, head_dim_}).permute({2, 0, 3, 1, 4});
  torch::Tensor q, k, v = parts[2];
  if (in.rope_cos.defined()) {
    // q and k rotated together ([2,B,H,T,hd]): half the ops of rotating each, which counts in
    // decoding, where a step's tensors are small and the time goes to per-op overhead.
    auto qk = apply_rope(parts.narrow(0, 0, 2), in.rope_cos, in.rope_sin);
    q = qk[0], k = qk[1];
  } else {
    q = parts[0], k = parts[1];
  }
  if (in.cache != nullptr) {
    // Several new slots after earlier ones need an explicit mask: is_causal aligns the
    // triangle to the top left, which is only right when the cache was empty.
    check(in.mask.defined() || T == 1 || in.cache->length() == 0,
          "attention: a multi-token append to a non-empty cache needs a mask");
    std::tie(k, v) = in.cache->append(layer_, k, v);
  }
  const bool is_causal = !in.mask.defined() && T > 1;
  const double p = is_training() ? dropout_ : 0.0;
  std::optional<torch::Tensor> mask;
  if (in.mask.defined()) mask = in.mask;
  auto y = torch::scaled_dot_product_attention(q, k, v, mask, p, is_causal);  // [B,H,T,hd]
  y = proj(y.transpose(1, 2).reshape({B, T, D}));
  if (p > 0) y = torch::dropout(y, p, true);
  return y;
}

}  // namespace mg
