#pragma once
// One decoding step's attention, fused for the CPU: for every row and head at once it turns the
// new token's q and k (rotary, "rotate half" layout, as models/rope.h), writes the token's k and v
// into the cache slot, and attends over the row's real keys. The module path does the same in
// ~20 operators per layer (views, the rotation, the cache copy, SDPA's own steps); at the tiny
// model's size a decoding step is that dispatch overhead, not arithmetic. The module path
// (CausalSelfAttention with a KvCache) is this kernel's reference (tests/test_decode_attention.cpp).
// On a GPU the decoder keeps the module path.
#include <torch/types.h>

namespace mg::kernels {

// qkv       [B, 3*H*hd] fp32, the qkv projection of the new token (q | k | v, head-major in each).
// k_cache,
// v_cache   [B, H, capacity, hd] fp32 contiguous; slot `slot` of each is written.
// key_start [B] int64: row b attends to the slots [key_start[b], slot] (its left padding is
//           before key_start[b]).
// rope_cos,
// rope_sin  [B, hd/2] fp32, the new token's rotary tables (models/rope.h's rope_tables), or
//           undefined for no rotary.
// Returns the attention output [B, H*hd] (heads concatenated, before the output projection).
torch::Tensor decode_attention_cpu(const torch::Tensor& qkv, torch::Tensor& k_cache, torch::Tensor& v_cache,
                                   int64_t slot, const torch::Tensor& key_start, const torch::Tensor& rope_cos,
                                   const torch::Tensor& rope_sin, int64_t n_head);

}  // namespace mg::kernels
