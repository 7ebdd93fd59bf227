#pragma once
// Stage "eval": held-out greedy accuracy after a round, at every difficulty the run has
// reached (trainers/stages/evaluate_held_out.h measures one difficulty).
#include <nlohmann/json.hpp>

#include "models/gpt.h"
#include "trainers/run/run_context.h"
#include "trainers/stages/evaluate_held_out.h"

namespace mg {

// {difficulty label: greedy accuracy} at pretraining's range and every curriculum value
// reached up to round `round` (the same numbers on every rank).
nlohmann::json held_out_accuracy(RunContext& ctx, Gpt& model, int round);

}  // namespace mg
