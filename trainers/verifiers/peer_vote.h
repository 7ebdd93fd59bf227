#pragma once
// Verify method `peers`: a vote across independently trained models, as in Lee et al. 2025
// (majority voting across models). A peer is another run directory of the same task and
// layout, trained from another seed. The peer's checkpoint of the round that drew the samples
// answers each prompt `samples` times, and a sample's score is the share of all the peers'
// answers that equal its own (the sample's own model does not vote).
// No label, no grader and no arithmetic outside the models is read. This is the point of the
// method: at a new length one model's systematic mistake (the carry into a new digit) is often
// not another's, whereas majority vote and every same-sum rewrite keep it.
// Peers advance in lockstep, one round at a time (tools/peers.sh): round r of each run needs
// round r-1 of every peer. The one exception is a peer whose adaptive curriculum is complete:
// it never runs another round, so it votes with its last one.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"
#include "trainers/run/scored_sample.h"

namespace mg {

struct Peer {
  std::string dir;
  int round = 0;  // the peer's round whose weights vote
  std::unique_ptr<Tokenizer> tokenizer;
  Gpt model{nullptr};
};

// The round of peer `dir` that votes on samples drawn by a round-`model_round` model.
// BadInput naming the peer when it is not a run with this recipe's task and layout, or when it
// has not committed that round (and its curriculum is not complete).
int peer_round(const Recipe& recipe, const std::string& dir, int model_round);

// Every peer of the recipe, loaded for samples drawn by a round-`model_round` model (weights
// checked against their MANIFEST).
std::vector<Peer> load_peers(const Recipe& recipe, int model_round, const torch::Device& device);

struct PeerVoting {
  const std::vector<Peer>* peers = nullptr;  // null: the method cannot run
  int samples = 8;                           // answers each peer draws per prompt
  SamplingConfig sampling;
  uint64_t seed = 0;                         // peer k samples from derive_seed(seed, k)
  int max_new_tokens = 16;
};

// One score in [0, 1] per sample. `prompts[p]` is the prompt of samples with prompt index p.
// A peer's answers to prompt p are seeded by (seed, peer index, p, sample), so a score does
// not depend on batch size or rank.
std::vector<double> peer_scores(const std::vector<std::string>& prompts, const std::vector<ScoredSample>& samples,
                                const PeerVoting& how, const torch::Device& device);

}  // namespace mg
