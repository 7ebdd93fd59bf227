#pragma once
// Model FLOPs per token, PaLM-style (Chowdhery et al. 2022, appendix B), a multiply-add = 2 FLOPs:
//   N    = 12 * L * d^2 (q,k,v, attention output, MLP in and out matrices) + V * d (the unembedding matmul;
//          the embedding lookup costs no FLOPs); biases, LayerNorms, softmax and GELU are ignored.
//   forward  = 2 * N + 4 * L * T * d   (q.k^T and attention-weighted sum of v: 2 * T * d each per layer)
//   training = 3 * forward = 6 * N + 12 * L * T * d   (backward = 2 * forward)
// T is the full sequence length, as in PaLM: the causal half that a fused kernel skips is counted.
#include "models/gpt_config.h"

namespace mg {

double flops_per_token(const GptConfig& c, int seq_len, bool training);

}  // namespace mg
