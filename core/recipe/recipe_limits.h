#pragma once
// Size rules of a recipe, checked with the rest of the recipe (so `--check` and every command
// refuse it before anything is written): the vocabulary must fit in tokenizer.vocab_size, the
// longest example in model.max_seq, and the batches and the model in this machine's memory.
// Each failure is BadInput naming the recipe and the key.
#include <cstdint>
#include <string>

#include "core/recipe/recipe.h"

namespace mg {

// The longest example the run trains on, in tokens (the tokenizer is per character; a special
// token counts one), over every difficulty of pretraining and of the curriculum: the exact
// generation length, and the longest verification example of the formats the run teaches
// over a fixed sample of problems at the widest difficulty (wrong candidates included).
int longest_example_tokens(const Recipe& recipe);

// The tokens the run's tokenizer will hold: <pad>, <unk>, the special tokens (with the pairwise
// ones where the run teaches that format) and the task's characters.
int vocabulary_needed(const Recipe& recipe);

// A lower bound on the memory one step of the run needs, in bytes, and the key that adds the
// most to it (what to lower).
struct MemoryNeed {
  double bytes = 0;
  std::string key;
};
MemoryNeed memory_lower_bound(const Recipe& recipe);

// Applies the rules; `physical_bytes` 0 means this machine's memory.
void check_recipe_limits(const Recipe& recipe, double physical_bytes = 0);

}  // namespace mg
