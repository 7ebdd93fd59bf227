#include "kernels/cuda_check.h"
#include "kernels/scale_cuda.h"

namespace mg::kernels {
namespace {

// Grid-stride loop: any n with a bounded grid.
__global__ void scale_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n, float alpha) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = alpha * x[i];
}

}  // namespace

void scale_cuda_launch(const float* x, float* y, int64_t n, float alpha, void* stream) {
  if (n == 0) return;
  const int threads = 256;
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535) blocks = 65535;
  scale_kernel<<<static_cast<unsigned>(blocks), threads, 0, static_cast<cudaStream_t>(stream)>>>(x, y, n, alpha);
  MG_CUDA_LAUNCH_CHECK();
}

}  // namespace mg::kernels
