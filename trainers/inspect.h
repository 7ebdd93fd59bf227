#pragma once
// What the commands that read a run without training it compute (`mindgap eval`, `schedule`,
// `slices`, `export`, `import`, `compare`); the gap of a checkpoint is the gap pipeline's
// (trainers/gap_pipeline.h). The command line parses and prints; the work is here.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpt.h"
#include "trainers/interop/hf_export.h"
#include "trainers/reports/round_report.h"
#include "trainers/reports/slices.h"
#include "trainers/run/run_context.h"

namespace mg {

// `mindgap eval`: held-out greedy accuracy and the verdict's accuracy and AUROC at every
// difficulty the run can touch, keyed "lo-hi".
nlohmann::json evaluate_checkpoint(RunContext& ctx, Gpt& model);

// `mindgap schedule`: the overrides (key=value lines) that replay an adaptive curriculum's
// difficulty per round; nullopt when the run has no adaptive curriculum. BadInput when it has
// no complete improvement round.
std::optional<std::string> schedule_overrides(RunContext& ctx);

// `mindgap slices`: rounds first..last (complete improvement rounds) split by the task's
// slices, one record per (round, slice).
std::vector<nlohmann::json> slice_records(RunContext& ctx, int first, int last);

}  // namespace mg
