#pragma once
// `mindgap testtime`: the test-time curve of one checkpoint. The model samples N_max answers to
// each of a set of held-out prompts once; for every N of the list and every verify method, the
// method scores the first N samples of each prompt (as it would score a round of N samples:
// consistency and tournament see only those N) and the top-scored one is the prompt's answer.
// Beside the methods, two lines that read no verifier: `none`, the expected accuracy of a
// random one of the N (the share of correct samples), and `oracle`, pass@N (a correct one is
// among them). Best-of-N helps a method only where its gap is positive.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "models/gpt.h"
#include "trainers/run/run_context.h"

namespace mg {

struct TestTimeRequest {
  std::vector<int> best_of;          // ascending N >= 1
  std::vector<std::string> methods;  // sweep.methods names (mc-cot, score, consistency, tournament, ...)
  int prompts = 256;                 // held-out prompts at the task's base difficulty
  int round = 0;                     // the checkpoint's round (seeds the sampling as round + 1 would)
};

// A row per (method, N): {"method", "n", "accuracy", "prompts", "round"}; methods in request
// order then none and oracle, each by N. One process (BadInput under a multi-rank launch).
std::vector<nlohmann::json> test_time_curve(RunContext& ctx, Gpt& model, const TestTimeRequest& request);

// The console table: a row per N, a column per method.
std::string format_test_time_table(const std::vector<nlohmann::json>& rows);

}  // namespace mg
