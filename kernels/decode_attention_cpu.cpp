#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "kernels/decode_attention.h"
#include "kernels/sampling_row.h"

namespace mg::kernels {
namespace {

// The work of one (row, head) is built for AVX-512, AVX2 and the baseline, picked when the
// binary loads (GCC function multi-versioning), so one binary runs everywhere at the width the
// CPU has. Every clone does the same float operations in the same order (16 running sums per
// dot product whatever the vector width; no fused multiply-add: this file is built with
// -ffp-contract=off; the exp of sampling_row.h), so a run computes the same numbers on each.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define MG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MG_CLONES
#endif
constexpr int64_t kLanes = 16;

// GCC vector types: one operation on 16, 8, 4 or 2 floats, lowered to whatever registers the
// clone has (one zmm, two ymm, four xmm) with the same per-element arithmetic.
typedef float F16 __attribute__((vector_size(64)));
typedef float F8 __attribute__((vector_size(32)));
typedef float F4 __attribute__((vector_size(16)));
typedef float F2 __attribute__((vector_size(8)));

// The sum of 16 running sums as a tree of elementwise halvings (lanes j and j + 8, then j and
// j + 4, ...): the same order at every vector width.
inline float tree_sum(F16 acc) {
  const F8 a = __builtin_shufflevector(acc, acc, 0, 1, 2, 3, 4, 5, 6, 7) +
               __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15);
  const F4 b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  const F2 c = __builtin_shufflevector(b, b, 0, 1) + __builtin_shufflevector(b, b, 2, 3);
  return c[0] + c[1];
}

// a . b as 16 running sums (element i goes to sum i % 16), then their tree.
inline float dot(const float* a, const float* b, int64_t n) {
  F16 acc = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    F16 x, y;
    std::memcpy(&x, a + i, sizeof x);  // unaligned loads
    std::memcpy(&y, b + i, sizeof y);
    acc += x * y;
  }
  for (int64_t j = 0; i < n; ++i, ++j) acc[j] += a[i] * b[i];
  return tree_sum(acc);
}

// Turns one head's vector in place (pairs i and i + hd/2), as models/rope.h's apply_rope.
inline void rotate_half(float* x, int64_t half, const float* cos, const float* sin) {
  for (int64_t i = 0; i < half; ++i) {
    const float x1 = x[i], x2 = x[i + half];
    x[i] = x1 * cos[i] - x2 * sin[i];
    x[i + half] = x2 * cos[i] + x1 * sin[i];
  }
}

struct Head {
  const float *q, *k, *v;  // the new token's q, k, v of this head
  float *k_cache, *v_cache;  // this head's cache, [capacity, hd]
  const float *cos, *sin;  // this row's rotary tables [hd/2], or null
  float* out;  // [hd]
  int64_t hd, first, slot;
  float scale;
};

// out[i0, i0 + N) = sum over s of weights[s] * v[s][i0, i0 + N).
template <int64_t N>
inline void weighted_sum(const Head& h, const float* weights, int64_t i0) {
  float acc[N] = {};
  for (int64_t s = h.first; s <= h.slot; ++s) {
    const float w = weights[s];
    const float* v = h.v_cache + s * h.hd + i0;
    for (int64_t j = 0; j < N; ++j) acc[j] += w * v[j];
  }
  std::copy_n(acc, N, h.out + i0);
}

// Writes the slot, then out = softmax(q.K[first..slot] * scale) V[first..slot]. `scores` holds
// slot + 1 floats.
MG_CLONES void attend(const Head& h, float* q, float* scores) {
  const int64_t hd = h.hd;
  float* k_new = h.k_cache + h.slot * hd;
  std::copy_n(h.q, hd, q);
  std::copy_n(h.k, hd, k_new);
  std::copy_n(h.v, hd, h.v_cache + h.slot * hd);
  if (h.cos != nullptr) {
    rotate_half(q, hd / 2, h.cos, h.sin);
    rotate_half(k_new, hd / 2, h.cos, h.sin);
  }
  float top = -INFINITY;
  for (int64_t s = h.first; s <= h.slot; ++s) {
    scores[s] = dot(q, h.k_cache + s * hd, hd) * h.scale;
    top = std::max(top, scores[s]);
  }
  float total = 0.f;
  for (int64_t s = h.first; s <= h.slot; ++s) {
    scores[s] = sampling_detail::exp_nonpositive(scores[s] - top);
    total += scores[s];
  }
  for (int64_t s = h.first; s <= h.slot; ++s) scores[s] /= total;
  // out[i] = sum over s, in order, of weight[s] * v[s][i], for 32 or 16 outputs at a time in
  // local sums (registers) rather than in out, where every position's add waited on the store
  // before it; each output's additions keep their order.
  int64_t i0 = 0;
  for (; i0 + 2 * kLanes <= hd; i0 += 2 * kLanes) weighted_sum<2 * kLanes>(h, scores, i0);
  for (; i0 + kLanes <= hd; i0 += kLanes) weighted_sum<kLanes>(h, scores, i0);
  if (i0 < hd) {
    std::fill(h.out + i0, h.out + hd, 0.f);
    for (int64_t s = h.first; s <= h.slot; ++s) {
      const float w = scores[s];
      const float* v = h.v_cache + s * hd;
      for (int64_t i = i0; i < hd; ++i) h.out[i] += w * v[i];
    }
  }
}

}  // namespace

torch::Tensor decode_attention_cpu(const torch::Tensor& qkv, torch::Tensor& k_cache, torch::Tensor& v_cache,
                                   int64_t slot, const torch::Tensor& key_start, const torch::Tensor& rope_cos,
                                   const torch::Tensor& rope_sin, int64_t n_head) {
  check(qkv.device().is_cpu() && qkv.scalar_type() == torch::kFloat32 && qkv.dim() == 2,
        "decode_attention_cpu: qkv must be fp32 [B, 3D] on the CPU");
  check(k_cache.dim() == 4 && k_cache.is_contiguous() && v_cache.is_contiguous() &&
            k_cache.sizes() == v_cache.sizes() && k_cache.scalar_type() == torch::kFloat32 &&
            v_cache.scalar_type() == torch::kFloat32,
        "decode_attention_cpu: the caches must be contiguous fp32 [B, H, capacity, hd]");
  const int64_t B = qkv.size(0), H = n_head, cap = k_cache.size(2), hd = k_cache.size(3), D = H * hd;
  check(k_cache.size(0) == B && k_cache.size(1) == H && qkv.size(1) == 3 * D,
        "decode_attention_cpu: qkv and the caches disagree in batch or width");
  check(slot >= 0 && slot < cap, "decode_attention_cpu: slot outside the cache");
  check(key_start.scalar_type() == torch::kInt64 && key_start.numel() == B,
        "decode_attention_cpu: key_start must be int64 [B]");
  const bool rotary = rope_cos.defined();
  if (rotary)
    check(hd % 2 == 0 && rope_cos.scalar_type() == torch::kFloat32 && rope_sin.scalar_type() == torch::kFloat32 &&
              rope_cos.numel() == B * hd / 2 && rope_sin.numel() == B * hd / 2,
          "decode_attention_cpu: rotary tables must be fp32 [B, hd/2]");

  const auto qkv_c = qkv.contiguous();
  const auto start_c = key_start.contiguous();
  const auto cos_c = rotary ? rope_cos.contiguous() : rope_cos;
  const auto sin_c = rotary ? rope_sin.contiguous() : rope_sin;
  auto out = torch::empty({B, D}, qkv.options());
  const float* in = qkv_c.data_ptr<float>();
  const int64_t* start = start_c.data_ptr<int64_t>();
  const float* cos = rotary ? cos_c.data_ptr<float>() : nullptr;
  const float* sin = rotary ? sin_c.data_ptr<float>() : nullptr;
  float* kc = k_cache.data_ptr<float>();
  float* vc = v_cache.data_ptr<float>();
  float* y = out.data_ptr<float>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));

  // One task per (row, head): each writes its own cache slot and output span. A task is a few
  // thousand flops, so many go to a thread at a time.
  at::parallel_for(0, B * H, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> q(static_cast<size_t>(hd)), scores(static_cast<size_t>(slot + 1));
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const float* row = in + b * 3 * D;
      Head head{row + h * hd,
                row + D + h * hd,
                row + 2 * D + h * hd,
                kc + (b * H + h) * cap * hd,
                vc + (b * H + h) * cap * hd,
                rotary ? cos + b * hd / 2 : nullptr,
                rotary ? sin + b * hd / 2 : nullptr,
                y + b * D + h * hd,
                hd,
                std::clamp<int64_t>(start[b], 0, slot),
                slot,
                scale};
      attend(head, q.data(), scores.data());
    }
  });
  return out;
}

}  // namespace mg::kernels
