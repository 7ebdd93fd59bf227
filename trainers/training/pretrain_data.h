#pragma once
// The pretraining mixture: generation examples (prompt -> answer) and verification examples
// (prompt, candidate -> verdict), half of the candidates correct and half realistic near
// misses. Example i of step s is a pure function of (seed, s, i): any rank can build any one.
#include "core/recipe/recipe.h"
#include "core/tasks/task.h"
#include "core/tasks/verification.h"

namespace mg {

Example pretrain_example(const Task& task, const Recipe& recipe, uint64_t seed, uint64_t step, uint64_t index,
                         Range difficulty);

}  // namespace mg
