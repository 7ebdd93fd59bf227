#pragma once
// Rotary position embeddings (RoFormer), "rotate half" layout: channel i of the first half of a
// head is paired with channel i of the second half and the pair is turned by angle
// position * base^(-2i/head_dim). Only q and k are turned, so q.k depends on the positions'
// difference alone.
#include <utility>

#include <torch/types.h>

namespace mg {

// cos and sin of the angles for `positions` (int64, any shape): shape positions.sizes() + [head_dim/2],
// fp32 (angles of positions in the thousands lose precision in bf16).
std::pair<torch::Tensor, torch::Tensor> rope_tables(const torch::Tensor& positions, int64_t head_dim,
                                                    double base = 10000.0);

// Turns x [..., T, head_dim] by tables broadcastable to [..., T, head_dim/2]. Computed in fp32 and
// returned in x's dtype, so a bf16 model keeps bf16 activations without bf16 angle error.
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace mg
