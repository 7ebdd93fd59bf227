#include "trainers/curriculum/curriculum.h"

#include <algorithm>
#include <cstdio>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/tasks/task.h"
#include "trainers/run/run_context.h"
#include "trainers/run/round_store.h"

namespace mg {

double kept_share(const nlohmann::json& record, int samples_per_prompt) {
  const auto& kept = record.at("kept");
  const double total = record.at("prompts").get<double>() * samples_per_prompt;
  return kept.is_number() && total > 0 ? kept.get<double>() / total : 0.0;
}

CurriculumPosition next_position(const AdvanceConfig& rule, int steps, const CurriculumPosition& at,
                                 double share) {
  if (at.complete) return at;
  const bool mastered = share >= rule.kept_share;
  const bool out_of_rounds = rule.max_rounds > 0 && at.rounds_at_step >= rule.max_rounds;
  if (!mastered && !out_of_rounds) return {at.step, at.rounds_at_step + 1, false};
  // The last step is left only when it is mastered: running out of rounds there ends nothing,
  // so improve.rounds bounds it as it bounds a per-round curriculum.
  if (at.step + 1 >= steps) return mastered ? CurriculumPosition{at.step, at.rounds_at_step, true}
                                            : CurriculumPosition{at.step, at.rounds_at_step + 1, false};
  return {at.step + 1, 1, false};
}

std::vector<CurriculumPosition> curriculum_positions(const Recipe& recipe, const std::vector<nlohmann::json>& records) {
  const int steps = static_cast<int>(curriculum_steps(recipe).size());
  std::vector<CurriculumPosition> out{CurriculumPosition{}};
  for (const auto& r : records)
    out.push_back(next_position(recipe.improve.advance, steps, out.back(),
                                kept_share(r, recipe.improve.samples_per_prompt)));
  return out;
}

namespace {

// Round r's record, needed to place round `placing`.
nlohmann::json committed_record(const RunDir& run, int r, int placing) {
  if (!fs::exists(run.round(r) / "state.json"))
    fail_input(run.root.string() + ": round " + std::to_string(r) +
               " is not complete, and the adaptive curriculum (improve.advance) needs it to place round " +
               std::to_string(placing));
  return committed_round_record(run, r);
}

// The positions of rounds 1..round of ctx's run, from the records of rounds 1..round-1, each
// read from disk once per process (RunContext::committed_rounds).
std::vector<CurriculumPosition> positions_up_to(const RunContext& ctx, int round) {
  auto& known = ctx.committed_rounds;
  for (int r = static_cast<int>(known.size()) + 1; r < round; ++r) known.push_back(committed_record(ctx.run, r, round));
  return curriculum_positions(ctx.recipe, std::vector<nlohmann::json>(known.begin(), known.begin() + (round - 1)));
}

}  // namespace

std::vector<nlohmann::json> committed_records(const RunDir& run, int up_to_round) {
  std::vector<nlohmann::json> out;
  for (int r = 1; r <= up_to_round; ++r) out.push_back(committed_record(run, r, up_to_round + 1));
  return out;
}

Range round_difficulty(const RunContext& ctx, int round) {
  if (round <= 0 || !adaptive_curriculum(ctx.recipe)) return difficulty_for_round(ctx.recipe, round);
  return curriculum_steps(ctx.recipe)[positions_up_to(ctx, round).back().step];
}

std::vector<Range> difficulties_so_far(const RunContext& ctx, int round) {
  std::vector<Range> out;
  auto add = [&](Range d) {
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  };
  if (!adaptive_curriculum(ctx.recipe)) {
    for (int r = 0; r <= round; ++r) add(difficulty_for_round(ctx.recipe, r));
    return out;
  }
  add(difficulty_for_round(ctx.recipe, 0));
  if (round <= 0) return out;
  const auto steps = curriculum_steps(ctx.recipe);
  auto positions = positions_up_to(ctx, round);
  for (int s = 0; s <= positions.back().step; ++s) add(steps[s]);
  return out;
}

std::string curriculum_complete_message(const Recipe& recipe, const nlohmann::json& last) {
  const Range d = curriculum_steps(recipe).back();
  char share[64];
  std::snprintf(share, sizeof share, "%.3f", kept_share(last, recipe.improve.samples_per_prompt));
  char bar[64];
  std::snprintf(bar, sizeof bar, "%.3f", recipe.improve.advance.kept_share);
  const std::string unit = " " + difficulty_key(recipe.task);
  return "round " + std::to_string(last.at("round").get<int>()) + " kept " + share + " of its samples at the last step (" +
         std::to_string(d.lo) + unit + "), at least improve.advance.kept_share (" + bar +
         "): the curriculum is complete, stopping";
}

}  // namespace mg
