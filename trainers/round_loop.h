#pragma once
// The improvement rounds: for r = 1..rounds, generate -> verify -> grade -> filter -> metrics
// -> distill -> held-out eval -> checkpoint round r. Each stage's output is written into the
// round's temporary directory before the next stage starts, so a killed run resumes at the
// first missing stage and ends bit-identical (on the CPU) to an uninterrupted run. This is the
// only place that passes data between the stages (trainers/stages/).
#include <nlohmann/json.hpp>

#include <vector>

#include "trainers/run/run_context.h"

namespace mg {

// Runs the rounds not yet complete; returns the round records (all rounds, stored ones included).
std::vector<nlohmann::json> run_rounds(RunContext& ctx);

}  // namespace mg
