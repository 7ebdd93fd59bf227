#pragma once
// The generation-verification gap of a checkpoint, in one place: generate -> verify -> filter
// -> gap metrics. A round measures it through its RoundStore (each stage's output stored, so a
// resume reads it back); `mindgap gap`, `sweep`, `testtime` and `sample --best-of` measure it
// through a store in memory. A new verify method or filter lands in the stages and reaches
// every one of them through here.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpt.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/reports/round_report.h"
#include "trainers/run/round_store.h"
#include "trainers/run/run_context.h"
#include "trainers/stages/filter.h"
#include "trainers/stages/gap_metrics.h"
#include "trainers/stages/generate.h"
#include "trainers/stages/verify.h"

namespace mg {

// How one arm scores and filters the samples.
struct GapArm {
  std::optional<VerifyConfig> verify;  // none: nothing scores them (score 0; a control arm of a study)
  FilterConfig filter;
  int pass_k = 1;
};
// The round's arm: improve.verify, improve.filter, improve.pass_k.
GapArm recipe_arm(const Recipe& recipe);
// An arm of a study (`sweep.methods`, `testtime --methods`): a verify method by name ("mc",
// "mc-direct", "consistency", ...) with the recipe's filter, or a control arm (`none`,
// `oracle`), which scores nothing.
GapArm study_arm(const Recipe& recipe, const std::string& method);

struct GapMeasure {
  Verified verified;  // the samples with their scores, and the check's answers
  Filtered filtered;  // selected: the filter's choice, on which the gap is measured; kept: what trains
  GapMetrics gap;
};

// The gap of `model` on `round`'s prompts by the recipe's arm: the round's stages generate,
// verify and filter (the kept set stored as the filter's output), then the metrics.
GapMeasure measure_gap(RoundStore& store, RunContext& ctx, Gpt& model, const Round& round);
// The same on samples already drawn (a study scores one draw by every arm).
GapMeasure measure_gap_of(RoundStore& store, RunContext& ctx, Gpt& model, const Round& round,
                          std::vector<ScoredSample> samples, const GapArm& arm);

// `mindgap gap`: the gap of round `round`'s checkpoint on the prompts of the round after it
// (what that round would measure), as the round's record has it (gap_record).
nlohmann::json checkpoint_gap(RunContext& ctx, Gpt& model, int round);

// `mindgap sample --best-of n`: n answers to `prompt` (greedy when n = 1), each scored by the
// recipe's verify method and graded; the caller picks the best.
std::vector<ScoredSample> scored_answers(RunContext& ctx, Gpt& model, const std::string& prompt, int n);

}  // namespace mg
