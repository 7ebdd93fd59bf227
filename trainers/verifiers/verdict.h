#pragma once
// Verify methods `mc` and `score`: the model's own verdict on (prompt, candidate) pairs, read
// from the next-token logits at the verdict position.
//   mc     P(<yes>) / (P(<yes>) + P(<no>)) (the paper's multiple choice)
//   score  expected value of the score tokens <s0>..<s9>, divided by 9
// Format direct: the verdict follows <verify> at once. Format cot: the model first writes its
// own derivation greedily, and the verdict position is where it chooses a verdict token.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/tokenizer/tokenizer.h"
#include "models/decoder.h"
#include "models/gpt.h"

namespace mg {

struct VerdictRequest {
  std::vector<std::string> prompts;     // one per pair
  std::vector<std::string> candidates;  // one per pair
  VerifyMethod method = VerifyMethod::Mc;  // Mc or Score (the model-based methods)
  std::string format = "direct";        // direct | cot
  int max_derivation_tokens = 16;
  int max_rows = 512;
};

// Model-based scores in [0, 1], one per pair.
std::vector<double> verdict_scores(Gpt& model, const Tokenizer& tokenizer, const VerdictRequest& request,
                                   const torch::Device& device);

}  // namespace mg
