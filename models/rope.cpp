#include "models/rope.h"

#include <torch/torch.h>

#include "core/errors.h"

namespace mg {

std::pair<torch::Tensor, torch::Tensor> rope_tables(const torch::Tensor& positions, int64_t head_dim,
                                                    double base) {
  check(head_dim % 2 == 0, "rope: head_dim must be even");
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(positions.device());
  auto inv_freq = torch::pow(base, -torch::arange(0, head_dim, 2, f32) / static_cast<double>(head_dim));
  auto angles = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [..., head_dim/2]
  return {angles.cos(), angles.sin()};
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto xf = x.to(torch::kFloat32);  // no copy when x is already fp32
  auto x1 = xf.narrow(-1, 0, half);
  auto x2 = xf.narrow(-1, half, half);
  auto out = torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
  return out.to(x.scalar_type());
}

}  // namespace mg
