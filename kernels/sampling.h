#pragma once
// Token sampling from a batch of logits, one row per sequence, with per-row settings.
//
// Semantics (identical in the CUDA kernel, the CPU twin and the naive reference):
//  1. temperature <= 0: greedy, the argmax of the logits (lowest index on ties); the final
//     distribution is a point mass, so the returned log-prob is 0.
//  2. otherwise z = logit / temperature (fp32), p = softmax(z).
//  3. top-k (k > 0 and k < V): keep z >= the k-th largest z. Ties at the threshold are all kept,
//     so more than k tokens can survive.
//  4. top-p (top_p < 1), on the top-k survivors renormalised: the smallest set of the most
//     probable tokens whose mass is >= top_p; every token whose probability equals the
//     threshold (the last one taken) is kept too. top_p <= 0 keeps only the most probable
//     token(s).
//  5. min-p (min_p > 0): keep p >= min_p * max(p) (clamped to min_p <= 1, so the most probable
//     token always survives; the ratio does not change with renormalisation).
//  6. draw by inverse CDF over the survivors in vocabulary order with a Philox uniform
//     u(seed, offset): the first token whose cumulative mass exceeds u * total. -inf logits
//     (and tokens whose exp underflows to 0) have no mass and are never drawn.
// A row's draw depends only on its logits, its settings, its seed and its offset: not on the
// batch around it. A row whose logits are all -inf returns token 0 with log-prob NaN.
// The GPU kernel and the CPU twin use the same Philox stream and the same thresholds; they can
// differ only where float rounding decides (exp and sums are computed in different orders):
// a uniform within a few ulps of a CDF boundary, or a top-p mass within rounding of top_p.
#include <torch/types.h>

namespace mg::kernels {

struct SamplingParams {           // per-row tensors on the logits' device (or CPU), length B
  torch::Tensor temperature;      // float32 [B]; 0 means argmax (greedy)
  torch::Tensor top_k;            // int64 [B]; 0 = off
  torch::Tensor top_p;            // float32 [B]; 1 = off
  torch::Tensor min_p;            // float32 [B]; 0 = off
  torch::Tensor seed;             // int64 [B]
  torch::Tensor offset;           // int64 [B] (e.g. the decoding step)
};

// The same scalar settings for every row; seeds and offsets per row (their device is used).
SamplingParams uniform_params(int64_t B, double temperature, int64_t top_k, double top_p, double min_p,
                              const torch::Tensor& seed, const torch::Tensor& offset);

struct SampleResult {
  torch::Tensor tokens;   // int64 [B]
  torch::Tensor logprob;  // float32 [B], under the final (tempered, masked, renormalised) distribution
};

// logits: [B, V] float32 or bfloat16. Dispatches on the logits' device.
SampleResult sample(const torch::Tensor& logits, const SamplingParams& p);
// The CPU twin of the CUDA kernel (same thresholds, same Philox draws).
SampleResult sample_cpu(const torch::Tensor& logits, const SamplingParams& p);
// Plain libtorch, sort-based reference (tests, benchmark); same Philox uniforms, so its draws
// agree with the others except where rounding decides. Runs on the logits' device.
SampleResult sample_naive(const torch::Tensor& logits, const SamplingParams& p);

// Throws mg::Error (bad input) unless logits is [B, V] float32/bfloat16 with V >= 1 and every
// field of p is a 1-D tensor of length B.
void check_sampling_inputs(const torch::Tensor& logits, const SamplingParams& p);

// The final distribution as the naive reference computes it: float64 [B, V], rows summing to 1
// (a one-hot row for greedy). For tests.
torch::Tensor sampling_probs_naive(const torch::Tensor& logits, const SamplingParams& p);
// The support the CPU twin draws from: bool [B, V]. For tests.
torch::Tensor sampling_support_cpu(const torch::Tensor& logits, const SamplingParams& p);

}  // namespace mg::kernels
