#pragma once
// Verify method `tournament`: the model judges its own answers two at a time, in the pairwise
// format pretraining teaches ("<prompt><a><vs><b><verify>" -> <first> | <second> | <both> |
// <neither>, core/tasks/verification.h). Each prompt's distinct answers play a round robin,
// every pair in both orders so that a preference for either position cancels. A match is read
// from the verdict logits, renormalised over the four verdicts:
//   win of the first answer = P(first) + (P(both) + P(neither)) / 2   (a draw is half a win)
// An answer's score is its mean win over its 2 (k - 1) matches. A prompt whose samples all agree
// (k = 1) has no opponent: its answer plays itself and scores P(both) / (P(both) + P(neither)),
// the model's belief that the answer is right. k answers cost k (k - 1) forward passes.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"
#include "trainers/run/scored_sample.h"

namespace mg {

// The outcome of one match, probabilities summing to 1.
struct PairOutcome {
  double first = 0.25, second = 0.25, both = 0.25, neither = 0.25;
};

// How much of a match each side wins: its verdict, and half of a draw.
inline double win_of_first(const PairOutcome& o) { return o.first + 0.5 * (o.both + o.neither); }
inline double win_of_second(const PairOutcome& o) { return o.second + 0.5 * (o.both + o.neither); }

// The outcome of each match (prompts[i], firsts[i] against seconds[i]), batched `max_rows` at a
// time. A match too long for the model's context keeps the uniform outcome.
std::vector<PairOutcome> pair_outcomes(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<std::string>& firsts, const std::vector<std::string>& seconds,
                                       const torch::Device& device, int max_rows = 512);

// The scores of one prompt's k >= 1 distinct answers from their matches' outcomes:
// outcome(i, j) is answer i (first) against answer j (second), asked for i != j, and only
// outcome(0, 0) when k == 1.
std::vector<double> round_robin_scores(int k, const std::function<PairOutcome(int, int)>& outcome);

// Each sample's score (input order): its answer's round-robin score among its prompt's
// distinct answers. `prompts[p]` is the text of prompt index p.
std::vector<double> tournament_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                      const std::vector<ScoredSample>& samples, const torch::Device& device);

}  // namespace mg
