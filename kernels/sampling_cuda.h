#pragma once
// Host launcher of the fused sampling kernel (raw pointers; the stream as void* so that C++
// callers need no CUDA headers). All arrays live on the current device; logits are [B, V]
// row-major, float32 (bf16 = false) or bfloat16 (bf16 = true).
#include <cstdint>

namespace mg::kernels {
void sampling_cuda_launch(const void* logits, bool bf16, int64_t B, int64_t V, const float* temperature,
                          const int64_t* top_k, const float* top_p, const float* min_p, const int64_t* seed,
                          const int64_t* offset, int64_t* tokens, float* logprob, void* stream);
}
