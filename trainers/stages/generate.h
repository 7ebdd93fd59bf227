#pragma once
// Stage "generate": N samples per prompt of a round, drawn by batched decoding
// (trainers/sampling/answers.h), then graded by the task's exact grader (for the metrics and the
// oracle control only; no other stage reads the grade).
#include <filesystem>
#include <vector>

#include "core/tasks/task.h"
#include "models/gpt.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/run_context.h"
#include "trainers/run/scored_sample.h"

namespace mg {

// improve.samples_per_prompt samples of each of the round's problems (prompts sharded by rank),
// seeded by (seed, round, prompt, sample); graded, gathered and sorted by (prompt, sample) on
// every rank.
std::vector<ScoredSample> stage_generate(RunContext& ctx, Gpt& model, const Round& round);

// The stage as a round stores it (trainers/run/round_store.h): samples.jsonl.
struct Generate {
  static constexpr const char* name = "generate";
  static constexpr const char* file = "samples.jsonl";
  RunContext& ctx;
  Gpt& model;
  const Round& round;
  std::vector<ScoredSample> run() const { return stage_generate(ctx, model, round); }
  std::vector<ScoredSample> read(const std::filesystem::path& dir) const;
  void write(const std::filesystem::path& dir, const std::vector<ScoredSample>& samples) const;
};

}  // namespace mg
