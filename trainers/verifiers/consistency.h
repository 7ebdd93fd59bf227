#pragma once
// Scores that need no model call: majority-vote agreement among a prompt's samples, and the
// combination of several verification methods' scores into one.
#include <string>
#include <vector>

#include "core/recipe/methods.h"
#include "trainers/run/scored_sample.h"

namespace mg {

// For each sample (in input order), the share of the `voters` of its prompt whose answer text
// is exactly equal to its own; 0 when its prompt has no voter. In [0, 1].
std::vector<double> vote_shares(const std::vector<ScoredSample>& samples, const std::vector<ScoredSample>& voters);

// Per prompt with voters (ascending), the answer most of them give, as a record flagged
// from_check with score = its share of the prompt's voters (its `sample` is for the caller to
// number among the prompt's candidates); a tie goes to the smaller answer
// text. A vote `unreadable` (a check that could not finish) counts in the share but is never
// the answer given.
std::vector<ScoredSample> top_votes(const std::vector<ScoredSample>& voters, const std::string& unreadable);

// Majority vote proxy: each sample's vote share among its own prompt's samples (itself
// included). In (0, 1]; 1 when all agree.
std::vector<double> consistency_scores(const std::vector<ScoredSample>& samples);

// per_method[m][i] is method m's score of sample i; every method scores the same samples.
// how Mean: the average; And: the minimum (every method must trust the sample).
std::vector<double> combine_scores(const std::vector<std::vector<double>>& per_method, CombineBy how);

}  // namespace mg
