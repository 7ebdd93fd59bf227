#pragma once
// Stage "distill": fine-tune the model on the filtered (weighted) samples of a round, with a
// share of pretraining-style examples replayed so that the verifier does not drift. Fresh
// AdamW each round; batches are a pure function of (seed, round, step).
#include <vector>

#include "trainers/filter.h"
#include "trainers/run_context.h"
#include "trainers/scored_sample.h"

namespace mg {

struct DistillSummary {
  double first_loss = 0, last_loss = 0, seconds = 0;
  int examples = 0;
};

DistillSummary distill(RunContext& ctx, Gpt& model, int round, const std::vector<std::string>& prompts,
                       const std::vector<ScoredSample>& samples, const std::vector<Kept>& kept);

}  // namespace mg
