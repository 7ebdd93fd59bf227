#pragma once
// Starting a run from another run's round-0000, so that the arms of a study (self-verified,
// none, oracle) share one pretraining: the keys that shape pretraining must agree, the verdict
// formats taught must cover the new run's, and round-0000 must pass its checksums. Copies
// round-0000 and the tokenizer and writes the new recipe.yaml; a directory already forked
// is left as it is (resume).
#include <string>

#include "core/recipe/recipe.h"

namespace mg {

void fork_from(const Recipe& recipe, const std::string& from);

}  // namespace mg
