#pragma once
// `mindgap sweep`: the paper's scaling study on one task. Every shape of sweep.shapes is
// pretrained once, to the largest of sweep.at_steps, keeping its weights at each of them
// (pretrain.keep_at); at every (shape, step) the model samples the next round's prompts once,
// and each method of sweep.methods verifies the same samples, giving the offline gap as
// `mindgap gap --round 0` measures it. Output in run.dir:
//   <shape>/            the shape's own run directory (round-0000, snapshots/, its points)
//   sweep.jsonl         a row per shape × step × method, by method, then shape and step as listed
//   sweep_fit.jsonl     per method, the least-squares line of relative gap on log10 FLOPs
//   sweep.png           relative gap against pretraining FLOPs, one line per method, fits drawn
// A point is measured once and stored (<shape>/points/step-<s>.json): a killed sweep started
// again redoes only what was not stored, and writes the same bytes on the CPU.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/stats/linear_fit.h"
#include "core/recipe/recipe.h"

namespace mg {

// Runs (or resumes) the sweep of `recipe`; one process (BadInput under a multi-rank launch).
void run_sweep(const Recipe& recipe);

// Per method of `rows` (sweep.jsonl's), in order of first appearance, the fit of
// relative_gap on log10(flops).
std::vector<std::pair<std::string, LinearFit>> sweep_fits(const std::vector<nlohmann::json>& rows);

// The console table of the rows and the fits.
std::string format_sweep_table(const std::vector<nlohmann::json>& rows,
                               const std::vector<std::pair<std::string, LinearFit>>& fits);

}  // namespace mg
