#pragma once
// Filters: turn self-verification scores into weighted training examples, w(u_f) in the
// paper's terms. Every filter except the `oracle` control arm reads `score` only, never the
// grader's `correct`.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/recipe/recipe.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/scored_sample.h"

namespace mg {

// Applies config.method to `samples` (any order; (prompt, sample) pairs must be unique).
// The result is sorted by (prompt, sample).
//   quantile   keeps the top `keep` share by score. scope per_prompt: ceil(keep * n) of each
//              prompt's n samples (so at least one per prompt); scope global: ceil(keep * N)
//              of all N samples (a prompt may get none). Ties: the smaller (prompt, sample)
//              wins. Weight 1.
//   best_of_n  the top-scored sample of each prompt (ties: the smaller sample index). Weight 1.
//   threshold  every sample with score >= config.threshold. Weight 1.
//   reweight   every sample, weight ∝ exp(score / temperature), normalised to mean 1 within
//              each prompt (scope per_prompt: the paper's f[w](y|x) ∝ f(y|x) w(u(x, y)), every
//              prompt weighs the same) or over all samples (scope global).
//   none       every sample, weight 1 (control arm).
//   oracle     the grader-correct samples, weight 1 (control arm, a ceiling).
// With config.dedup, dedup_kept is applied last (see there).
std::vector<Kept> filter_samples(const std::vector<ScoredSample>& samples, const FilterConfig& config);

// Keeps one example per (prompt, answer text) among `kept`: the one with the smallest sample
// index. Its weight is left as it was (not multiplied by the number of copies), so the
// weights of the survivors are the same with and without dedup. Sorted by (prompt, sample).
// The metrics of the filtered distribution use the list before this step.
std::vector<Kept> dedup_kept(const std::vector<ScoredSample>& samples, const std::vector<Kept>& kept);

// The filter stage of a round. `selected` is the filter's choice among the samples before
// dedup, on which the gap is measured; `kept` is what trains: `selected` deduplicated (with
// filter.dedup), then, with filter.fallback check, the threshold filter's fallback: the check's
// answers it takes (fallback_answers) after the samples.
struct Filtered {
  std::vector<Kept> selected;
  std::vector<Kept> kept;
};
Filtered filter_round(const Candidates& candidates, const FilterConfig& config);

// filter.fallback check: for each prompt with no entry in `kept` whose check answer (a
// candidate of `candidates.check`, flagged from_check) has a share of at least `threshold`,
// an entry naming that candidate, weight 1. Reads only the shares, never `correct`. Sorted by
// prompt. Internal error when an entry of the check's answers is not flagged.
std::vector<Kept> fallback_answers(const std::vector<Kept>& kept, const Candidates& candidates, double threshold);

// What the filter stage stores (trainers/run/round_store.h): the kept set, kept.jsonl. Not
// timed on its own (filtering is instant; the round's seconds have no "filter" entry).
struct Keep {
  static constexpr const char* name = "filter";
  static constexpr const char* file = "kept.jsonl";
  static constexpr bool timed = false;
  std::vector<Kept> kept;
  std::vector<Kept> run() { return std::move(kept); }
  std::vector<Kept> read(const std::filesystem::path& dir) const { return read_kept(dir / file); }
  void write(const std::filesystem::path& dir, const std::vector<Kept>& k) const { write_kept(dir / file, k); }
};

// True for the control arms of a study (`none`, `oracle`), which train without trusting the
// verifier; false for every other name.
bool is_control_arm(const std::string& filter_method);

}  // namespace mg
