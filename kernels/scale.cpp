// Dispatcher: picks the CUDA kernel or the CPU twin by the tensor's device.
#include "kernels/scale.h"

#include "core/errors.h"
#include "kernels/scale_cuda.h"
#ifdef MINDGAP_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace mg::kernels {

bool built_with_cuda() {
#ifdef MINDGAP_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

torch::Tensor scale(const torch::Tensor& x, float alpha) {
  if (!x.is_cuda()) return scale_cpu(x, alpha);
#ifdef MINDGAP_HAVE_CUDA
  check(x.scalar_type() == torch::kFloat32, "scale: x must be float32");
  c10::cuda::CUDAGuard guard(x.device());
  auto xc = x.contiguous();
  auto y = torch::empty_like(xc);
  scale_cuda_launch(xc.data_ptr<float>(), y.data_ptr<float>(), xc.numel(), alpha,
                    c10::cuda::getCurrentCUDAStream().stream());
  return y;
#else
  fail_input("this mindgap was built without CUDA kernels (MINDGAP_CUDA=OFF)");
#endif
}

}  // namespace mg::kernels
