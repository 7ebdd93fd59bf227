#pragma once
// Stage "verify": the model scores its own (prompt, answer) pairs by the recipe's method, each
// a verifier of trainers/verifiers/:
//   mc, score   the model's verdict (verdict.h)
//   consistency share of the prompt's samples that give the same answer (majority vote; no verifier)
//   equivalent  share of the answers to the task's equivalent prompts that agree (equivalence.h)
//   peers       share of other runs' models' answers to the same prompt that agree (peer_vote.h)
//   tournament  win rate in a round robin among the prompt's distinct answers (tournament.h)
//   likelihood, self_certainty  the generator's own confidence in the answer it wrote, through
//               the fused log-prob kernel (likelihood.h)
//   ensemble    the recipe's methods combined by mean or AND (minimum)
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/tasks/task.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/run_context.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/scored_sample.h"
#include "trainers/verifiers/equivalence.h"
#include "trainers/verifiers/peer_vote.h"

namespace mg {

// Everything a verify method needs besides the model: the recipe's methods, how the methods
// that draw answers of their own sample them (equivalent), which models vote (peers). Set up
// by make_verifiers, for a round or for one prompt (`mindgap sample`).
struct Verifiers {
  VerifyConfig config;
  int max_derivation_tokens = 16;  // the longest derivation a cot verdict writes
  EquivalentSampling equivalent;
  bool with_peers = false;         // peer runs were looked for (a round); else method peers refuses
  std::vector<Peer> peer_models;   // the peers' checkpoints that vote (method peers)
  PeerVoting peers;                // how they vote; its `peers` is set to peer_models when used
};

// How the verifiers that draw answers of their own draw them.
struct VerifierDraws {
  int samples = 8;  // answers per prompt each drawing verifier samples
  SamplingConfig sampling;
  int max_new_tokens = 16;
  int max_derivation_tokens = 16;
  uint64_t equivalent_seed = 0, peer_seed = 0;
  int peer_round = -1;  // the peers' round that votes; -1: none (a command outside a round)
};
Verifiers make_verifiers(RunContext& ctx, const VerifyConfig& config, const VerifierDraws& draws);

// The verifiers of round `round`'s samples by `config`: the recipe's samples and sampling, seeded
// by the round, and the peers' checkpoints of the round whose model drew the samples (round - 1).
Verifiers make_verifiers(RunContext& ctx, const Round& round, const VerifyConfig& config);

// Fills samples[i].score by the verifiers' method. Pairs with identical (prompt, answer) are
// scored once. `prompts[p]` is the prompt text of samples with prompt index p. Returns the
// equivalent check's own answer per prompt (equivalence_scores' `top`: from_check, scored by
// its share of the votes; not yet graded), empty when the methods do not include it.
std::vector<ScoredSample> self_verify(Gpt& model, const Tokenizer& tokenizer, const Verifiers& verifiers,
                                      const std::vector<std::string>& prompts, std::vector<ScoredSample>& samples,
                                      const torch::Device& device);

// The stage's output: the samples with their scores and the check's answers (candidate N of
// its prompt, after its N samples), each graded for the metrics, gathered and sorted on every
// rank. Which of them trains is the filter's choice (filter.fallback), never the verifier's.
using Verified = Candidates;

// A peer that lacks the round that votes stops round `round` before it writes anything
// (BadInput naming the peer); nothing to check once the round's scores are on disk.
void require_peer_rounds(const RunContext& ctx, int round);

// The stage of a round: the samples scored by `config` (the recipe's improve.verify in a
// round; one method of a study in `sweep` and `testtime`), sharded by rank.
Verified stage_verify(RunContext& ctx, Gpt& model, const Round& round, const std::vector<ScoredSample>& samples,
                      const VerifyConfig& config);

// The stage as a round stores it (trainers/run/round_store.h): scored.jsonl, every candidate
// (join_candidates).
struct Verify {
  static constexpr const char* name = "verify";
  static constexpr const char* file = "scored.jsonl";
  RunContext& ctx;
  Gpt& model;
  const Round& round;
  const std::vector<ScoredSample>& samples;
  const VerifyConfig& config;
  Verified run() const { return stage_verify(ctx, model, round, samples, config); }
  Verified read(const std::filesystem::path& dir) const;
  void write(const std::filesystem::path& dir, const Verified& verified) const;
};

}  // namespace mg
