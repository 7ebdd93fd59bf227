#pragma once
// Every CUDA call checked, every launch followed by a launch-error check.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define MG_CUDA_CHECK(expr)                                                                  \
  do {                                                                                       \
    cudaError_t mg_err_ = (expr);                                                            \
    if (mg_err_ != cudaSuccess)                                                              \
      throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(mg_err_) +   \
                               " at " __FILE__ ":" + std::to_string(__LINE__));             \
  } while (0)

#define MG_CUDA_LAUNCH_CHECK() MG_CUDA_CHECK(cudaGetLastError())
