#pragma once
// Host launcher of the CUDA scale kernel (raw pointers; stream as void* so that C++ callers
// need no CUDA headers).
#include <cstdint>

namespace mg::kernels {
void scale_cuda_launch(const float* x, float* y, int64_t n, float alpha, void* stream);
}
