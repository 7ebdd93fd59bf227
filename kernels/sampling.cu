// Fused sampling: one block per row, no sort of the vocabulary. Per row:
//   max of z = x / T  ->  top-k threshold  ->  top-p threshold  ->  min-p  ->  inverse-CDF draw.
// Thresholds are found by a 16-way search over the order-preserving uint32 keys of the floats
// (kernels/sampling_row.h): each pass counts (top-k) or sums the mass (top-p) of the tokens at
// or above 15 candidate keys and keeps the sub-interval where the answer lies, so 8 passes pin
// down an exact 32-bit key. Token weights exp(z - max) come from the bit-exact
// exp_nonpositive shared with the CPU twin, masses are summed in float64 and every reduction
// has a fixed order: a row's draw is deterministic and, but for summation order at the 1e-16
// level, the twin's. The row is re-read from global memory (L2) by every pass; nothing is staged.
#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/cuda_check.h"
#include "kernels/philox.h"
#include "kernels/sampling_cuda.h"
#include "kernels/sampling_row.h"

namespace mg::kernels {
namespace {

using sampling_detail::float_key;
using sampling_detail::RowSettings;

constexpr int kThreads = 256;  // ~80 registers: 3 blocks per SM, so B = 256 rows run in one wave on an H100
constexpr int kWarps = kThreads / 32;
constexpr int kWays = sampling_detail::kSearchWays;  // candidates per search pass

__device__ __forceinline__ float load(const float* x, int64_t i) { return x[i]; }
__device__ __forceinline__ float load(const __nv_bfloat16* x, int64_t i) { return __bfloat162float(x[i]); }

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int d = 16; d > 0; d >>= 1) v += __shfl_down_sync(0xffffffffu, v, d);
  return __shfl_sync(0xffffffffu, v, 0);  // lane 0's sum: one value for the whole warp
}

// Sums N per-thread values over the block in a fixed order; every thread gets the totals.
// scratch: kWarps * N elements of shared memory, out: N elements of shared memory.
template <typename T, int N>
__device__ void block_sum_array(T (&v)[N], T* scratch, T* out) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // previous readers of scratch/out are done
#pragma unroll
  for (int j = 0; j < N; ++j) {
    const T s = warp_sum(v[j]);
    if (lane == 0) scratch[warp * N + j] = s;
  }
  __syncthreads();
  if (threadIdx.x < N) {
    T s = 0;
    for (int w = 0; w < kWarps; ++w) s += scratch[w * N + threadIdx.x];
    out[threadIdx.x] = s;
  }
  __syncthreads();
#pragma unroll
  for (int j = 0; j < N; ++j) v[j] = out[j];
}

template <typename T>
__device__ T block_sum(T v, T* scratch, T* out) {
  T a[1] = {v};
  block_sum_array<T, 1>(a, scratch, out);
  return a[0];
}

__device__ float block_max(float v, float* scratch) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int d = 16; d > 0; d >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, d));
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  float m = scratch[0];
  for (int w = 1; w < kWarps; ++w) m = fmaxf(m, scratch[w]);
  return m;
}

// (value, index) maximum with the lowest index on ties.
__device__ __forceinline__ void arg_better(float v, int64_t i, float& bv, int64_t& bi) {
  if (v > bv || (v == bv && i < bi)) bv = v, bi = i;
}

template <typename T>
__global__ void __launch_bounds__(kThreads) sampling_kernel(const T* __restrict__ logits, int64_t V,
                                                            const float* temperature, const int64_t* top_k,
                                                            const float* top_p, const float* min_p, const int64_t* seed,
                                                            const int64_t* offset, int64_t* tokens, float* logprob) {
  __shared__ float f_scratch[kWarps];
  __shared__ double d_scratch[kWarps * kWays];
  __shared__ double d_out[kWays];
  __shared__ unsigned u_scratch[kWarps * kWays];
  __shared__ unsigned u_out[kWays];
  __shared__ double s_warp_mass[kWarps];
  __shared__ int s_pick_warp;
  __shared__ double s_pick_rest, s_total;
  __shared__ int64_t s_token;
  __shared__ float s_bv[kWarps];
  __shared__ int64_t s_bi[kWarps];

  const int64_t b = blockIdx.x;
  const T* x = logits + b * V;
  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  const RowSettings s{temperature[b], top_k[b], top_p[b], min_p[b], uint64_t(seed[b]), uint64_t(offset[b])};

  if (sampling_detail::is_greedy(s)) {
    float bv = -INFINITY;
    int64_t bi = INT64_MAX;
    for (int64_t i = tid; i < V; i += kThreads) arg_better(load(x, i), i, bv, bi);
    for (int d = 16; d > 0; d >>= 1) {
      const float ov = __shfl_down_sync(0xffffffffu, bv, d);
      const int64_t oi = __shfl_down_sync(0xffffffffu, bi, d);
      arg_better(ov, oi, bv, bi);
    }
    if (lane == 0) s_bv[warp] = bv, s_bi[warp] = bi;
    __syncthreads();
    if (tid == 0) {
      for (int w = 1; w < kWarps; ++w) arg_better(s_bv[w], s_bi[w], bv, bi);
      tokens[b] = bi == INT64_MAX ? 0 : bi;
      logprob[b] = 0.0f;
    }
    return;
  }

  const float Tm = s.temperature;
  float m = -INFINITY;
  for (int64_t i = tid; i < V; i += kThreads) m = fmaxf(m, load(x, i) / Tm);
  m = block_max(m, f_scratch);
  if (m == -INFINITY) {  // no token has any mass
    if (tid == 0) tokens[b] = 0, logprob[b] = NAN;
    return;
  }
  const uint32_t key_max = float_key(m);

  // top-k: the largest key t with #{key >= t} >= k is the k-th largest value's key.
  uint32_t t_key = 0;
  if (sampling_detail::top_k_on(s, V)) {
    uint32_t lo = 0, hi = key_max;
    while (lo < hi) {
      const auto g = sampling_detail::make_grid(lo, hi);
      unsigned cnt[kWays] = {};
      for (int64_t i = tid; i < V; i += kThreads) {
        const uint32_t kz = float_key(load(x, i) / Tm);
#pragma unroll
        for (int j = 1; j < kWays; ++j) cnt[j] += kz >= g.at(j);
      }
      block_sum_array<unsigned, kWays>(cnt, u_scratch, u_out);
      sampling_detail::narrow(g, [&](int j) { return cnt[j] >= uint64_t(s.top_k); }, lo, hi);
    }
    t_key = lo;
  }

  // top-p: the largest key t whose mass at or above it reaches top_p of the top-k survivors'.
  if (sampling_detail::top_p_on(s)) {
    double part = 0.0;
    for (int64_t i = tid; i < V; i += kThreads) {
      const float z = load(x, i) / Tm;
      if (float_key(z) >= t_key) part += sampling_detail::exp_nonpositive(z - m);
    }
    const double target = double(s.top_p) * block_sum(part, d_scratch, d_out);
    uint32_t lo = t_key, hi = key_max;
    while (lo < hi) {
      const auto g = sampling_detail::make_grid(lo, hi);
      double mass[kWays] = {};
      for (int64_t i = tid; i < V; i += kThreads) {
        const float z = load(x, i) / Tm;
        const uint32_t kz = float_key(z);
        if (kz <= lo) continue;  // below every candidate > lo
        const double e = sampling_detail::exp_nonpositive(z - m);
#pragma unroll
        for (int j = 1; j < kWays; ++j) mass[j] += kz >= g.at(j) ? e : 0.0;
      }
      block_sum_array<double, kWays>(mass, d_scratch, d_out);
      sampling_detail::narrow(g, [&](int j) { return mass[j] >= target; }, lo, hi);
    }
    t_key = lo;
  }

  const float mp = sampling_detail::min_p_clamped(s);
  auto kept_mass = [&](int64_t i) -> float {
    const float z = load(x, i) / Tm;
    if (float_key(z) < t_key) return 0.0f;
    const float e = sampling_detail::exp_nonpositive(z - m);
    return (mp <= 0.0f || e >= mp) ? e : 0.0f;
  };

  // Draw: warp w owns the contiguous slice [w*L, (w+1)*L); the slice masses (fixed-order sums)
  // locate the warp whose slice holds the target, which then scans its slice 32 tokens at a time.
  const int64_t L = (V + kWarps - 1) / kWarps;
  const int64_t begin = warp * L, end = begin + L < V ? begin + L : V;
  double part = 0.0;
  for (int64_t i = begin + lane; i < end; i += 32) part += kept_mass(i);
  part = warp_sum(part);
  if (lane == 0) s_warp_mass[warp] = part;
  __syncthreads();
  if (tid == 0) {
    double total = 0.0;
    for (int w = 0; w < kWarps; ++w) total += s_warp_mass[w];
    const double target = double(philox::uniform(s.seed, s.offset)) * total;
    double before = 0.0;
    int pick = -1, last = 0;
    for (int w = 0; w < kWarps; ++w) {
      if (s_warp_mass[w] > 0.0f) last = w;
      if (pick < 0 && before + s_warp_mass[w] > target) pick = w;
      if (pick < 0) before += s_warp_mass[w];
    }
    s_pick_warp = pick < 0 ? last : pick;
    s_pick_rest = pick < 0 ? INFINITY : target - before;  // INFINITY: take the slice's last token
    s_total = total;
  }
  __syncthreads();
  if (warp == s_pick_warp) {
    const double rest = s_pick_rest;
    double carry = 0.0;
    int64_t found = -1, last_kept = -1;
    for (int64_t base = begin; base < end && found < 0; base += 32) {
      const int64_t i = base + lane;
      const float e = i < end ? kept_mass(i) : 0.0f;
      double incl = e;  // inclusive prefix sum over the 32 lanes
      for (int d = 1; d < 32; d <<= 1) {
        const double o = __shfl_up_sync(0xffffffffu, incl, d);
        if (lane >= d) incl += o;
      }
      const unsigned hit = __ballot_sync(0xffffffffu, e > 0.0f && carry + incl > rest);
      const unsigned any = __ballot_sync(0xffffffffu, e > 0.0f);
      if (hit) found = base + __ffs(hit) - 1;
      if (any) last_kept = base + 31 - __clz(any);
      carry += __shfl_sync(0xffffffffu, incl, 31);
    }
    if (lane == 0) s_token = found >= 0 ? found : last_kept;
  }
  __syncthreads();
  if (tid == 0) {
    const int64_t tok = s_token < 0 ? 0 : s_token;
    tokens[b] = tok;
    logprob[b] = float(double(load(x, tok) / Tm - m) - log(s_total));
  }
}

}  // namespace

void sampling_cuda_launch(const void* logits, bool bf16, int64_t B, int64_t V, const float* temperature,
                          const int64_t* top_k, const float* top_p, const float* min_p, const int64_t* seed,
                          const int64_t* offset, int64_t* tokens, float* logprob, void* stream) {
  if (B == 0) return;
  auto st = static_cast<cudaStream_t>(stream);
  const dim3 grid(static_cast<unsigned>(B));
  if (bf16)
    sampling_kernel<__nv_bfloat16><<<grid, kThreads, 0, st>>>(static_cast<const __nv_bfloat16*>(logits), V,
                                                               temperature, top_k, top_p, min_p, seed, offset,
                                                               tokens, logprob);
  else
    sampling_kernel<float><<<grid, kThreads, 0, st>>>(static_cast<const float*>(logits), V, temperature, top_k,
                                                       top_p, min_p, seed, offset, tokens, logprob);
  MG_CUDA_LAUNCH_CHECK();
}

}  // namespace mg::kernels
