#pragma once
// Stage "verify": the model scores its own (prompt, answer) pairs by the recipe's method, each
// a verifier of trainers/verifiers/:
//   mc, score   the model's verdict (verdict.h)
//   consistency share of the prompt's samples that give the same answer (majority vote; no verifier)
//   equivalent  share of the answers to the task's equivalent prompts that agree (equivalence.h)
//   peers       share of other runs' models' answers to the same prompt that agree (peer_vote.h)
//   tournament  win rate in a round robin among the prompt's distinct answers (tournament.h)
//   ensemble    the recipe's methods combined by mean or AND (minimum)
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/recipe.h"
#include "core/tasks/task.h"
#include "core/tokenizer.h"
#include "models/gpt.h"
#include "trainers/run/round_prompts.h"
#include "trainers/run/run_context.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/scored_sample.h"
#include "trainers/verifiers/equivalence.h"
#include "trainers/verifiers/peer_vote.h"

namespace mg {

// Fills samples[i].score by the recipe's verify method. Pairs with identical (prompt, answer) are
// scored once. `prompts[p]` is the prompt text of samples with prompt index p. `equivalent`
// says how to sample the equivalent prompts, and `peers` which models vote, for the methods
// of those names. With `check`, the equivalent method's most-voted answer per prompt
// (equivalence_scores' `top`); left empty when the recipe's methods do not include it.
void self_verify(Gpt& model, const Tokenizer& tokenizer, const VerifyConfig& config,
                 const std::vector<std::string>& prompts, std::vector<ScoredSample>& samples,
                 int max_derivation_tokens, const torch::Device& device,
                 const EquivalentSampling& equivalent = {}, const PeerVoting& peers = {},
                 std::vector<ScoredSample>* check = nullptr);

// The stage's output: the samples with their scores, gathered and sorted on every rank, and
// with filter.adopt the check's most-voted answer per prompt (candidate N of its prompt, after
// its N samples), graded for the metrics, gathered and sorted.
using Verified = Candidates;

// A peer that lacks the round that votes stops round `round` before it writes anything
// (BadInput naming the peer); nothing to check once the round's scores are on disk.
void require_peer_rounds(const RunContext& ctx, int round);

// The stage of a round: self-verification scores by the recipe's method (by rank).
Verified stage_verify(RunContext& ctx, Gpt& model, const Round& round, const std::vector<ScoredSample>& samples);

// The stage's file in a round directory: scored.jsonl, every candidate (join_candidates).
Verified read_verified(const std::filesystem::path& dir);
void write_verified(const std::filesystem::path& dir, const Verified& verified);

}  // namespace mg
