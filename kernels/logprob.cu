// Log-prob chunk kernels. The chunk's logits come from a GEMM (cuBLAS, launched by the
// dispatcher); these kernels do what would otherwise need several [N, C] temporaries:
//  - update: one block per row folds the chunk into the row's online log-sum-exp
//    (max, rescaled sum of exp, and the entropy accumulator), and picks the target's logit;
//  - grad: in place, Z <- g * (onehot(target) - exp(Z - lse)), ready for the dH/dW GEMMs.
// Reductions have a fixed order, so results are deterministic.
#include <cstdint>

#include "kernels/cuda_check.h"
#include "kernels/logprob_cuda.h"

namespace mg::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

__device__ float block_reduce(float v, float* scratch, bool is_max) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int d = 16; d > 0; d >>= 1) {
    const float o = __shfl_down_sync(0xffffffffu, v, d);
    v = is_max ? fmaxf(v, o) : v + o;
  }
  __syncthreads();  // earlier readers of scratch are done
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float r = scratch[0];
  for (int w = 1; w < kWarps; ++w) r = is_max ? fmaxf(r, scratch[w]) : r + scratch[w];
  return r;
}

__global__ void __launch_bounds__(kThreads) chunk_update_kernel(const float* __restrict__ Z, int64_t C, int64_t v0,
                                                                const int64_t* __restrict__ targets, float* m,
                                                                float* s, float* t, float* target_logit) {
  __shared__ float scratch[kWarps];
  const int64_t n = blockIdx.x;
  const float* z = Z + n * C;
  const int64_t local = targets[n] - v0;
  float cm = -INFINITY;
  for (int64_t j = threadIdx.x; j < C; j += kThreads) {
    cm = fmaxf(cm, z[j]);
    if (j == local) target_logit[n] = z[j];
  }
  cm = block_reduce(cm, scratch, true);
  const float m_old = m[n];
  const float m_new = fmaxf(m_old, cm);
  float se = 0.0f, te = 0.0f;
  for (int64_t j = threadIdx.x; j < C; j += kThreads) {
    const float d = z[j] - m_new;
    const float e = expf(d);
    se += e;
    if (t) te += e * d;
  }
  se = block_reduce(se, scratch, false);
  if (t) te = block_reduce(te, scratch, false);
  if (threadIdx.x == 0) {
    const float scale = expf(m_old - m_new);  // 0 on the first chunk (m_old = -inf)
    const float s_old = s[n];
    if (t) {
      // sum e^{z-m'} (z-m') over the old chunks = e^{m-m'} (t + s (m - m')).
      const float shift = isinf(m_old) ? 0.0f : m_old - m_new;
      t[n] = (t[n] + s_old * shift) * scale + te;
    }
    s[n] = s_old * scale + se;
    m[n] = m_new;
  }
}

__global__ void chunk_grad_kernel(float* __restrict__ Z, int64_t N, int64_t C, int64_t v0,
                                  const int64_t* __restrict__ targets, const float* __restrict__ lse,
                                  const float* __restrict__ g) {
  const int64_t total = N * C;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / C, j = i - n * C;
    const float onehot = (v0 + j == targets[n]) ? 1.0f : 0.0f;
    Z[i] = g[n] * (onehot - expf(Z[i] - lse[n]));
  }
}

}  // namespace

void logprob_chunk_update_launch(const float* Z, int64_t N, int64_t C, int64_t v0, const int64_t* targets,
                                 float* m, float* s, float* t, float* target_logit, void* stream) {
  if (N == 0 || C == 0) return;
  chunk_update_kernel<<<static_cast<unsigned>(N), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      Z, C, v0, targets, m, s, t, target_logit);
  MG_CUDA_LAUNCH_CHECK();
}

void logprob_chunk_grad_launch(float* Z, int64_t N, int64_t C, int64_t v0, const int64_t* targets, const float* lse,
                               const float* g, void* stream) {
  const int64_t total = N * C;
  if (total == 0) return;
  const int threads = 256;
  int64_t blocks = (total + threads - 1) / threads;
  if (blocks > 65535 * 8) blocks = 65535 * 8;
  chunk_grad_kernel<<<static_cast<unsigned>(blocks), threads, 0, static_cast<cudaStream_t>(stream)>>>(
      Z, N, C, v0, targets, lse, g);
  MG_CUDA_LAUNCH_CHECK();
}

}  // namespace mg::kernels
