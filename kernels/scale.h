#pragma once
// y = alpha * x, elementwise, fp32. The smallest real kernel: it keeps the CUDA build, the
// link into the CPU binary and the GPU-skip path of the tests exercised.
#include <torch/types.h>

namespace mg::kernels {

// Dispatches on x's device: the CUDA kernel on a GPU tensor, the CPU twin otherwise.
torch::Tensor scale(const torch::Tensor& x, float alpha);
torch::Tensor scale_cpu(const torch::Tensor& x, float alpha);
// True when this binary was built with the CUDA kernels.
bool built_with_cuda();

}  // namespace mg::kernels
