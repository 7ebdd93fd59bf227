#pragma once
// log p(target) under softmax(H W^T) without materialising the [N, V] logits in fp32: the
// vocabulary is processed in chunks with an online log-sum-exp (max and rescaled sum carried
// from chunk to chunk); the backward recomputes each chunk's logits. fp32 accumulation for
// bf16 inputs. On a GPU the chunk GEMMs run on cuBLAS (through libtorch) and the per-chunk
// reductions and gradient transforms in custom kernels (kernels/logprob.cu); on the CPU the
// same loop runs with libtorch ops (kernels/logprob_cpu.cpp).
#include <torch/types.h>

#include <utility>

namespace mg::kernels {

// Vocabulary columns per chunk: the working set is about 2 * N * chunk * 4 bytes. The CPU twin
// takes half as many, which keeps its peak under 1/20 of the materialised logits at V = 32k at
// the same speed (bench_kernels); a vocabulary of up to 2048 tokens is one chunk either way.
constexpr int64_t kLogprobChunk = 4096;
constexpr int64_t kLogprobChunkCpu = 2048;

// H [N, D] and W [V, D] (float32 or bfloat16, same dtype and device), targets int64 [N].
// Differentiable w.r.t. H and W (custom autograd Function; backward also chunked).
// mask (bool [N], may be undefined) zeroes masked rows' output and gradient; masked rows'
// targets are ignored (may be e.g. -100). An out-of-range unmasked target is bad input on
// the CPU; on the GPU (not checked, to avoid a sync) its log-prob is NaN. Returns float32 [N].
torch::Tensor token_logprob(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                            const torch::Tensor& mask = {});

// Forward only, optionally the entropy of each row's distribution too (float32 [N], else undefined).
struct LogprobResult {
  torch::Tensor logprob;
  torch::Tensor entropy;
};
LogprobResult token_logprob_entropy(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                                    bool with_entropy);

// Reference: log_softmax(H W^T).gather(targets), the [N, V] logits materialised. The logits
// are computed in the inputs' dtype and the log-softmax in float32 (float64 for float64 inputs).
torch::Tensor token_logprob_naive(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets);

// ---- The chunked passes themselves (used by the above; public for tests and benchmarks) ----
struct LogprobStats {
  torch::Tensor logprob;  // float32 [N], unmasked
  torch::Tensor lse;      // float32 [N], log-sum-exp of each row's logits (kept for the backward)
  torch::Tensor entropy;  // float32 [N] when asked for, else undefined
};
// The end of the online log-sum-exp, shared by the CPU and GPU passes: from each row's running
// max m, s = sum exp(z - m), t = sum exp(z - m) (z - m) (read only with the entropy) and the
// target's logit, lse = m + log s, logprob = target_logit - lse, entropy = log s - t / s.
LogprobStats finish_logprob_stats(const torch::Tensor& m, const torch::Tensor& s, const torch::Tensor& t,
                                  const torch::Tensor& target_logit, bool with_entropy);
// Throws mg::Error (bad input) unless the shapes, dtypes and devices fit.
void check_logprob_inputs(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                          const torch::Tensor& mask);
LogprobStats logprob_forward_cpu(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                                 bool with_entropy, int64_t chunk = kLogprobChunkCpu);
// grad: float32 [N], d loss / d logprob (zero on masked rows). Returns (dH, dW) in H's and W's dtypes.
std::pair<torch::Tensor, torch::Tensor> logprob_backward_cpu(const torch::Tensor& H, const torch::Tensor& W,
                                                             const torch::Tensor& targets, const torch::Tensor& lse,
                                                             const torch::Tensor& grad, int64_t chunk = kLogprobChunkCpu);
// The same on a GPU (custom kernels for the chunk reductions); bad input without CUDA support.
LogprobStats logprob_forward_cuda(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                                  bool with_entropy, int64_t chunk = kLogprobChunk);
std::pair<torch::Tensor, torch::Tensor> logprob_backward_cuda(const torch::Tensor& H, const torch::Tensor& W,
                                                              const torch::Tensor& targets, const torch::Tensor& lse,
                                                              const torch::Tensor& grad, int64_t chunk = kLogprobChunk);

}  // namespace mg::kernels
