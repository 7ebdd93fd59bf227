#pragma once
// The shape of the GPT: what the recipe's `model` section says, plus the tokenizer's vocabulary.
#include <string>

#include "core/recipe/recipe.h"

namespace mg {

struct GptConfig {
  int vocab = 0;
  int n_layer = 4;
  int n_head = 4;
  int d_model = 128;
  int max_seq = 64;       // longest training sequence; the learned position table's size
  double dropout = 0.0;   // embeddings, attention weights and both residual branches
  std::string pos = "rope";  // learned | rope | none

  int head_dim() const { return d_model / n_head; }
  // Throws mg::Error (BadInput) naming the first field that cannot make a model.
  void validate() const;

  static GptConfig from(const ModelConfig& m, int vocab);
};

}  // namespace mg
