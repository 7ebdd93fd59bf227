#pragma once
// The examples a round distils on: its own kept samples and, with improve.distill.accumulate,
// those every earlier round of the run kept (read back from the committed round directories),
// so that what was learned at an earlier length of a curriculum keeps being trained on, as in
// Lee et al. 2025, where each round trains on all self-generated data so far.
#include <string>
#include <vector>

#include "core/tasks/task.h"
#include "trainers/run/run_context.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/scored_sample.h"

namespace mg {

struct DistillExample {
  Problem problem;  // the prompt and the model's (kept) answer, not the grader's
  double weight = 1.0;
};

// The kept candidates of one round as examples; `prompts[p]` is the prompt of prompt index p.
// A kept entry may name one of the check's answers (filter.fallback check): it trains on that answer.
std::vector<DistillExample> kept_examples(const std::vector<std::string>& prompts, const Candidates& candidates,
                                          const std::vector<Kept>& kept);

// This round's examples, then (with accumulate) those of rounds 1..round-1, oldest first.
// BadInput naming the file when an earlier round's scored.jsonl or kept.jsonl is missing or
// does not match the round's MANIFEST.
std::vector<DistillExample> distill_examples(const RunContext& ctx, int round, const std::vector<std::string>& prompts,
                                             const Candidates& candidates, const std::vector<Kept>& kept);

}  // namespace mg
