#pragma once
// The generation-verification gap of one round and the numbers read beside it: how much
// better the verifier-filtered samples are than the raw ones, how diverse the raw samples
// are (pass@k), and how well the score ranks right above wrong answers (AUROC).
#include <nlohmann/json.hpp>

#include <vector>

#include "core/stats/auroc.h"
#include "core/stats/pass_at_k.h"
#include "core/recipe/recipe.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/scored_sample.h"

namespace mg {

// Quantities that are undefined on the given data are NaN (written as null in JSON):
// J_filtered, gap and relative_gap when nothing is kept (or every weight is 0), precision
// when nothing is kept, recall when no sample is correct, and all accuracies when there
// are no samples.
struct GapMetrics {
  double J_f;           // accuracy of the raw samples (all samples count alike)
  double J_filtered;    // weighted accuracy of the kept samples: sum(w * correct) / sum(w)
  double gap;           // J_filtered - J_f
  double relative_gap;  // gap / (1 - J_f); 0 when J_f == 1
  double pass1;         // mean over prompts of the share of correct samples
  double passk;         // unbiased pass@k estimator (Chen et al. 2021) averaged over prompts
  double precision, recall;  // of "kept" (weight ignored) as a predictor of "correct"
  double auroc;         // of score against correct (ties counted half); 0.5 when one class is absent
  double auroc_within;  // within_prompt_auroc: the filter's real job, ranking one prompt's samples
  int kept;             // number of kept samples
  int prompts;          // number of distinct prompts
};

// `kept` must name distinct (prompt, sample) pairs present in `samples`, with finite weights
// >= 0. To measure the filtered distribution f[w(u_f)], pass the filter's result before
// dedup (dedup leaves weights alone, so the deduplicated list trains on the same weights).
// Every prompt needs at least k samples (fail_input otherwise).
GapMetrics gap_metrics(const std::vector<ScoredSample>& samples, const std::vector<Kept>& kept, int k);


// The AUROC of score against correct within each prompt, averaged over the prompts that have
// both right and wrong samples: how well the score ranks a prompt's own samples, which is what
// a per-prompt filter (best_of_n, quantile per prompt) uses. A global AUROC also rewards a
// score that only tells easy prompts from hard ones. NaN when no prompt has both.
double within_prompt_auroc(const std::vector<ScoredSample>& samples);

nlohmann::json to_json(const GapMetrics& m);

// filter.fallback check's numbers, outside the gap (which is the samples' alone):
// `fallback_answers`, the entries of `kept` that name one of the check's answers, and
// `fallback_precision`, the share of them the grader marks right (null when there are none).
nlohmann::json fallback_metrics(const std::vector<Kept>& kept, const Candidates& candidates);

// The part of a round's record that the round and `mindgap gap` share: the gap of the samples
// (to_json), the round, the arm (arm_label), whether it is a control arm and, with
// filter.fallback check, the check's answers among `kept`, counted apart (fallback_metrics).
nlohmann::json gap_record(const Recipe& recipe, int round, const GapMetrics& gap, const std::vector<Kept>& kept,
                          const Candidates& candidates);

}  // namespace mg
