#pragma once
// The prompts of an improvement round: a function of the run seed, the round and the round's
// difficulty (the curriculum's schedule), so the round, a resume, a later round that trains on
// this one's kept samples and `mindgap gap` all rebuild the same list.
#include <string>
#include <vector>

#include "core/tasks/task.h"
#include "trainers/run/run_context.h"

namespace mg {

// The prompts of round r, seeded by (seed, round), at the round's difficulty.
std::vector<Problem> round_problems(const RunContext& ctx, int round);

// What every stage of a round reads about it, computed once per round.
struct Round {
  int index = 0;                     // 1, 2, ...; round-0000 is pretraining
  Range difficulty;                  // from the curriculum's schedule
  std::vector<Problem> problems;     // round_problems(ctx, index)
  std::vector<std::string> prompts;  // their texts, indexed by prompt number
};
Round make_round(const RunContext& ctx, int index);
// The prompt texts of those problems, in order (what the stages index by prompt number).
std::vector<std::string> prompt_texts(const std::vector<Problem>& problems);

}  // namespace mg
