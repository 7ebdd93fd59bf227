// GptImpl::hidden_step_static: a decoding step whose shapes do not change from step to step
// (the whole cache capacity is attended, masked) and which reads nothing back to the host, the
// form a CUDA graph can capture and replay. The same function as the module path with T = 1.
#include <tuple>

#include <torch/torch.h>

#include "core/errors.h"
#include "models/gpt.h"
#include "models/rope.h"

namespace mg {

torch::Tensor GptImpl::hidden_step_static(const torch::Tensor& tokens, const torch::Tensor& positions,
                                          const torch::Tensor& key_start, const torch::Tensor& slot, KvCache& cache) {
  check(tokens.dim() == 1 && positions.sizes() == tokens.sizes() && key_start.sizes() == tokens.sizes() &&
            slot.numel() == 1,
        "hidden_step_static: tokens, positions, key_start [B] and slot [1]");
  const int64_t B = tokens.size(0), H = cfg_.n_head, hd = cfg_.head_dim(), D = cfg_.d_model;
  const int64_t cap = cache.capacity();
  auto x = wte(tokens);  // [B,D]
  if (cfg_.pos == "learned") x = x + wpe(positions);
  torch::Tensor cos, sin;
  if (cfg_.pos == "rope") {
    std::tie(cos, sin) = rope_tables(positions, hd);  // [B, hd/2]
    cos = cos.view({B, 1, 1, hd / 2}), sin = sin.view({B, 1, 1, hd / 2});
  }
  // Row b sees the slots [key_start[b], slot]: its prompt after the left padding, and what it
  // generated. The mask is computed on the device from the slot tensor, so a replay moves it.
  const auto slots = torch::arange(cap, tokens.options()).view({1, cap});
  const auto mask = ((slots >= key_start.view({B, 1})) & (slots <= slot.view({1, 1}))).view({B, 1, 1, cap});
  const auto slot_index = slot.view({1});
  for (size_t l = 0; l < blocks_.size(); ++l) {
    auto& b = blocks_[l];
    auto parts = b->attn->qkv(b->ln1(x)).view({B, 3, H, 1, hd});
    auto q = parts.select(1, 0), k = parts.select(1, 1), v = parts.select(1, 2);  // [B,H,1,hd]
    if (cos.defined()) q = apply_rope(q, cos, sin), k = apply_rope(k, cos, sin);
    auto [kc, vc] = cache.storage(static_cast<int64_t>(l), k.scalar_type());
    kc.index_copy_(2, slot_index, k);
    vc.index_copy_(2, slot_index, v);
    auto y = torch::scaled_dot_product_attention(q, kc, vc, mask);  // [B,H,1,hd]
    auto h = x + b->attn->proj(y.transpose(1, 2).reshape({B, D}));
    x = h + b->proj(torch::gelu(b->fc(b->ln2(h)), "tanh"));
  }
  return ln_f(x);
}

}  // namespace mg
