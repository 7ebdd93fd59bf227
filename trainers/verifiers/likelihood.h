#pragma once
// The generator's own confidence in an answer, read through the fused log-prob kernel
// (kernels/logprob.h) with the answer teacher-forced after its prompt, as pretraining and
// distillation score it (prompt, then answer + <eoa>). No verdict is asked and nothing is
// generated: a label-free signal that needs no verification training.
//   likelihood      exp(mean log p(token)) over the answer's tokens and <eoa>: the geometric
//                   mean of the probabilities the model gave its own answer, in (0, 1]
//   self_certainty  mean over the same positions of KL(p || uniform) / log V = 1 - H(p) / log V,
//                   how far each next-token distribution is from uniform, in [0, 1]; the
//                   self-certainty literature (e.g. Kang et al. 2025) takes KL(uniform || p),
//                   which needs every log p, not only the entropy the kernel returns
// Both read only the distributions the model writes the answer with; an answer that does not
// fit model.max_seq scores 0 (never trusted).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/recipe/methods.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"

namespace mg {

// One score per (prompts[i], answers[i]) by `method` (Likelihood or SelfCertainty), in rows of
// at most `max_rows` sequences.
std::vector<double> confidence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                      const std::vector<std::string>& answers, VerifyMethod method,
                                      const torch::Device& device, int max_rows = 256);

}  // namespace mg
