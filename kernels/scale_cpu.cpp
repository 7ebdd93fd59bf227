#include "core/errors.h"
#include "kernels/scale.h"

namespace mg::kernels {

torch::Tensor scale_cpu(const torch::Tensor& x, float alpha) {
  check(x.scalar_type() == torch::kFloat32, "scale: x must be float32");
  auto xc = x.contiguous();
  auto y = torch::empty_like(xc);
  const float* in = xc.data_ptr<float>();
  float* out = y.data_ptr<float>();
  for (int64_t i = 0, n = xc.numel(); i < n; ++i) out[i] = alpha * in[i];
  return y;
}

}  // namespace mg::kernels
