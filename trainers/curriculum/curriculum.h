#pragma once
// Which difficulty each improvement round trains at. A per-round curriculum is a function of
// the recipe alone (difficulty_for_round). An adaptive one (improve.advance) reads the
// committed rounds before it: round 1 is at the first step, and the next round moves one step
// on after a round whose filter kept at least advance.kept_share of its samples, or after
// advance.max_rounds rounds at a step. The kept share reads no label under a self-verifying
// filter, so neither does the schedule. Derived from the committed rounds' state.json, the
// schedule is the same on every rank and after a resume.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/run/run_dir.h"

namespace mg {

struct RunContext;

struct CurriculumPosition {
  int step = 0;            // index into the curriculum's values
  int rounds_at_step = 1;  // rounds at this step, this one included
  bool complete = false;   // the last step has passed its bar: no round follows
};

// The share of a round's samples its filter kept, from the round's record.
double kept_share(const nlohmann::json& round_record, int samples_per_prompt);

// The position after `at`, given the kept share of the round at `at` (the rule above).
CurriculumPosition next_position(const AdvanceConfig& rule, int steps, const CurriculumPosition& at,
                                 double kept_share);

// The positions of rounds 1..records.size() + 1, from the records of rounds 1..n in order: the
// last entry is where the next round would be (complete once the last step has passed).
std::vector<CurriculumPosition> curriculum_positions(const Recipe& recipe, const std::vector<nlohmann::json>& records);

// The records (state.json) of rounds 1..up_to_round of a run, in order; BadInput naming the
// first that is not complete.
std::vector<nlohmann::json> committed_records(const RunDir& run, int up_to_round);

// The difficulty of round `round` of this run (0 = pretraining). Adaptive: from the records of
// rounds 1..round-1, which must be complete, each read from disk the first time a call needs
// it (RunContext::committed_rounds); past a complete curriculum, the last step.
Range round_difficulty(const RunContext& ctx, int round);

// The difficulties held-out accuracy is measured at after round `round`: pretraining's range and
// every curriculum value reached so far, in order of first use.
std::vector<Range> difficulties_so_far(const RunContext& ctx, int round);

// Why the loop stops after the record of the round that completed the curriculum.
std::string curriculum_complete_message(const Recipe& recipe, const nlohmann::json& last_record);

}  // namespace mg
