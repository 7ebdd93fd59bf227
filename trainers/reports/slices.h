#pragma once
// Where a round's filter keeps answers and where it drops them, per slice of its problems
// (Task::slice: addition, how many digits the sum has). A filter can be precise and still
// starve the model of one kind of problem: a vote keeps the answers that its voters agree
// on, and one digit past the training lengths they agree least on the sums that carry into
// the new digit. The round's totals (state.json) cannot show that; these counts can. They
// read the grader's labels, as every metric does, and nothing here is trained on.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/tasks/task.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/scored_sample.h"

namespace mg {

struct SliceStats {
  std::string slice;
  int prompts = 0;
  int samples = 0;
  int right = 0;                    // samples the grader marks right
  int prompts_with_right = 0;       // prompts with at least one right sample
  int kept = 0;                     // kept examples (deduplicated, as distilled)
  int kept_right = 0;               // of those, right
  int prompts_with_right_kept = 0;  // prompts with at least one right example kept
  int fallback = 0;                 // filter.fallback check: the check's answers trained on (not in `kept`)
  int fallback_right = 0;            // of those, right
};

// One entry per slice present; "5-digit result" before "10-digit result" (shorter labels
// first, then in text order). `prompts[p]` is the prompt of prompt index p. BadInput when a
// sample or kept entry names a prompt index out of range or a kept entry no candidate. A kept
// entry that names one of the check's answers (filter.fallback check) is counted as a fallback.
std::vector<SliceStats> slice_stats(const Task& task, const std::vector<std::string>& prompts,
                                    const Candidates& candidates, const std::vector<Kept>& kept);

// Counts and the shares they give (right among samples and among kept; the share of prompts
// with a right example kept, against the share with a right sample at all); a share whose
// denominator is 0 is null.
nlohmann::json to_json(const SliceStats& s);

// The rows above as a console table, one line per (round, slice) record from to_json with
// "round" and "difficulty" added.
std::string format_slice_table(const std::vector<nlohmann::json>& records);

}  // namespace mg
