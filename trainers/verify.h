#pragma once
// Stage "verify": the model scores its own (prompt, answer) pairs.
//   mc          P(<yes>) / (P(<yes>) + P(<no>)) at the verdict position (the paper's multiple choice)
//   score       expected value of the score tokens <s0>..<s9>, divided by 9
//   consistency share of the prompt's samples that give the same answer (majority vote; no verifier)
//   equivalent  share of the answers to the task's equivalent prompt (b+a) that agree (equivalence.h)
//   peers       share of other runs' models' answers to the same prompt that agree (peer_vote.h)
//   ensemble    the recipe's methods combined by mean or AND (minimum)
// Format direct: the verdict follows <verify> at once. Format cot: the model first writes its
// own derivation greedily, and the verdict position is where it chooses a verdict token.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/recipe.h"
#include "core/tokenizer.h"
#include "models/decoder.h"
#include "models/gpt.h"
#include "trainers/equivalence.h"
#include "trainers/peer_vote.h"
#include "trainers/scored_sample.h"

namespace mg {

struct VerdictRequest {
  std::vector<std::string> prompts;     // one per pair
  std::vector<std::string> candidates;  // one per pair
  VerifyMethod method = VerifyMethod::Mc;  // Mc or Score (the model-based methods)
  std::string format = "direct";        // direct | cot
  int max_derivation_tokens = 16;
  int max_rows = 512;
};

// Model-based scores in [0, 1], one per pair.
std::vector<double> verdict_scores(Gpt& model, const Tokenizer& tokenizer, const VerdictRequest& request,
                                   const torch::Device& device);

// Fills samples[i].score by the recipe's verify method. Pairs with identical (prompt, answer) are
// scored once. `prompts[p]` is the prompt text of samples with prompt index p. `equivalent`
// says how to sample the equivalent prompts, and `peers` which models vote, for the methods
// of those names. With `check_answers`, the equivalent method's most-voted answer per prompt
// (equivalence_scores' `top`); left empty when the recipe's methods do not include it.
void self_verify(Gpt& model, const Tokenizer& tokenizer, const VerifyConfig& config,
                 const std::vector<std::string>& prompts, std::vector<ScoredSample>& samples,
                 int max_derivation_tokens, const torch::Device& device,
                 const EquivalentSampling& equivalent = {}, const PeerVoting& peers = {},
                 std::vector<ScoredSample>* check_answers = nullptr);

}  // namespace mg
