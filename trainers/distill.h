#pragma once
// Stage "distill": fine-tune the model on the filtered (weighted) examples of a round (see
// distill_data.h), with a share of pretraining-style examples replayed so that the verifier
// does not drift. Fresh AdamW each round; batches are a pure function of (seed, round, step).
#include <vector>

#include "trainers/distill_data.h"
#include "trainers/run_context.h"

namespace mg {

struct DistillSummary {
  double first_loss = 0, last_loss = 0, seconds = 0;
  int examples = 0;
};

DistillSummary distill(RunContext& ctx, Gpt& model, int round, const std::vector<DistillExample>& examples);

}  // namespace mg
