#pragma once
// The improvement rounds: for r = 1..rounds, generate -> verify -> grade -> filter -> metrics
// -> distill -> held-out eval -> checkpoint round r. Each stage's output is written into the
// round's temporary directory before the next stage starts, so a killed run resumes at the
// first missing stage and ends bit-identical (on the CPU) to an uninterrupted run.
#include <nlohmann/json.hpp>

#include "trainers/run_context.h"
#include "trainers/filter.h"
#include "trainers/gap_metrics.h"
#include "trainers/scored_sample.h"

namespace mg {

// Runs the rounds not yet complete; returns the round records (all rounds, stored ones included).
std::vector<nlohmann::json> run_rounds(RunContext& ctx);

// The stages, also used by `mindgap gap` (the offline study of a checkpoint):
// the prompts of round r, seeded by (seed, round), at the round's difficulty;
std::vector<Problem> round_problems(const RunContext& ctx, int round);
// the prompt texts of those problems, in order (what the stages index by prompt number);
std::vector<std::string> prompt_texts(const std::vector<Problem>& problems);
// N samples per prompt (prompts sharded by rank), graded, gathered and sorted on every rank;
std::vector<ScoredSample> stage_generate(RunContext& ctx, Gpt& model, int round, const std::vector<Problem>& problems);
// self-verification scores by the recipe's method (by rank, gathered); with `check_answers`
// and filter.adopt, also the check's most-voted answer per prompt (sample -1), graded for the
// metrics, gathered and sorted.
std::vector<ScoredSample> stage_verify(RunContext& ctx, Gpt& model, int round, const std::vector<Problem>& problems,
                                       const std::vector<ScoredSample>& samples,
                                       std::vector<ScoredSample>* check_answers = nullptr);

// The gap of a round: measured on the filtered distribution before deduplication (training
// then uses the deduplicated set with the same weights); `selected` receives that set.
GapMetrics measure_gap(const std::vector<ScoredSample>& samples, const ImproveConfig& improve,
                       std::vector<Kept>* selected = nullptr);

}  // namespace mg
