#pragma once
// Stage "generate": N samples per prompt by KV-cached batched decoding with the sampling kernel,
// stopping at end-of-answer. A sample's randomness depends only on (seed, prompt id, sample).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/tasks/task.h"
#include "core/tokenizer/tokenizer.h"
#include "models/decoder.h"
#include "models/gpt.h"

namespace mg {

struct GenerateRequest {
  std::vector<std::string> prompts;
  std::vector<uint64_t> prompt_ids;  // global ids (seeding); defaults to 0..n-1
  int samples = 1;
  SamplingConfig sampling;           // temperature 0 = greedy
  uint64_t seed = 0;
  int max_new_tokens = 16;           // the end token included
  int max_rows = 512;                // rows decoded together
};

// Tokens an answer may need at a difficulty (end token included).
inline int max_answer_tokens(const Task& task, Range difficulty) { return task.max_chars(difficulty) + 1; }

// answers[p][s]: the text before the end token (or everything generated if it never ended).
std::vector<std::vector<std::string>> generate_answers(Gpt& model, const Tokenizer& tokenizer,
                                                       const GenerateRequest& request, const torch::Device& device);

}  // namespace mg
