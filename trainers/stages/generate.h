#pragma once
// Stage "generate": N samples per prompt of a round, drawn by batched decoding
// (trainers/decode/answers.h), then graded by the task's exact grader (for the metrics and the
// oracle control only; no other stage reads the grade).
#include <vector>

#include "core/tasks/task.h"
#include "models/gpt.h"
#include "trainers/run/round_prompts.h"
#include "trainers/run/run_context.h"
#include "trainers/run/scored_sample.h"

namespace mg {

// improve.samples_per_prompt samples of each of the round's problems (prompts sharded by rank),
// seeded by (seed, round, prompt, sample); graded, gathered and sorted by (prompt, sample) on
// every rank.
std::vector<ScoredSample> stage_generate(RunContext& ctx, Gpt& model, const Round& round);

}  // namespace mg
