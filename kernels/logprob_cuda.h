#pragma once
// Host launchers of the log-prob chunk kernels (raw pointers; the stream as void*). Z is one
// chunk of logits, [N, C] row-major fp32, for vocabulary columns [v0, v0 + C).
#include <cstdint>

namespace mg::kernels {
// Online log-sum-exp update of each row with this chunk: m (running max), s (sum of exp(z - m)),
// t (sum of exp(z - m) * (z - m), for the entropy; may be null) and target_logit (written by
// the chunk that holds the row's target).
void logprob_chunk_update_launch(const float* Z, int64_t N, int64_t C, int64_t v0, const int64_t* targets,
                                 float* m, float* s, float* t, float* target_logit, void* stream);
// In place: Z <- g * (onehot(target) - exp(Z - lse)), the chunk's d loss / d logits.
void logprob_chunk_grad_launch(float* Z, int64_t N, int64_t C, int64_t v0, const int64_t* targets, const float* lse,
                               const float* g, void* stream);
}  // namespace mg::kernels
