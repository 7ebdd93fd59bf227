// Verify method `peers`: a sample's score is the share of the peer models' answers to its
// prompt that equal it. Checked on untrained models of different init seeds, whose answers
// are decoded independently with generate_answers.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/errors.h"
#include "tests/untrained_addition.h"
#include "trainers/sampling/answers.h"
#include "trainers/verifiers/peer_vote.h"
#include "trainers/run/seeds.h"

namespace {

using mg::testing::addition;
using mg::testing::tokenizer_for;
using mg::testing::untrained;

// A freshly initialised micro GPT answers alike whatever its init seed (its logits are near
// uniform); weights drawn wider give each seed answers of its own.
mg::Gpt distinct(int vocab, uint64_t seed) {
  auto model = untrained(vocab, seed);
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.normal_(0.0, 0.5);
  return model;
}

std::vector<mg::Peer> peers_from(const mg::Tokenizer& tk, std::initializer_list<uint64_t> init_seeds) {
  std::vector<mg::Peer> out;
  for (uint64_t s : init_seeds) {
    mg::Peer p;
    p.dir = "peer" + std::to_string(s);
    p.tokenizer = std::make_unique<mg::Tokenizer>(tk);
    p.model = distinct(tk.vocab_size(), s);
    out.push_back(std::move(p));
  }
  return out;
}

mg::PeerVoting voting(const std::vector<mg::Peer>& peers, int samples, double temperature) {
  mg::PeerVoting how;
  how.peers = &peers;
  how.samples = samples;
  how.sampling.temperature = temperature;
  how.seed = 11;
  how.max_new_tokens = 6;
  return how;
}

std::vector<std::string> greedy_answers(mg::Gpt model, const mg::Tokenizer& tk, const std::vector<std::string>& prompts) {
  mg::GenerateRequest req;
  req.prompts = prompts;
  req.sampling.temperature = 0.0;
  req.max_new_tokens = 6;
  std::vector<std::string> out;
  for (const auto& a : mg::generate_answers(model, tk, req, torch::kCPU)) out.push_back(a[0]);
  return out;
}

// Greedy peers give one answer each, `samples` times: a sample's score is the share of peers
// whose answer is its own. Prompt indices are not contiguous, as on one rank of several.
TEST(PeerVote, ScoreIsTheShareOfPeersThatGiveTheSameAnswer) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto peers = peers_from(tk, {7, 8});
  const std::vector<std::string> prompts = {"12+345=", "7+7=", "5+60=", "98+1=", "456+789="};
  auto a = greedy_answers(peers[0].model, tk, prompts);
  auto b = greedy_answers(peers[1].model, tk, prompts);
  size_t differ = 0;
  for (size_t i = 0; i < prompts.size(); ++i) differ += a[i] != b[i];
  ASSERT_GT(differ, 0u) << "the two peers answer alike everywhere: the test would not tell shares apart";

  std::vector<std::string> by_index(2 * prompts.size());
  std::vector<mg::ScoredSample> samples;
  std::vector<double> want;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const int p = static_cast<int>(2 * i + 1);
    by_index[p] = prompts[i];
    for (const std::string& x : {a[i], b[i], std::string("not an answer")}) {
      samples.push_back({p, static_cast<int>(samples.size()), x, 0.0, false});
      want.push_back(((a[i] == x) + (b[i] == x)) / 2.0);
    }
  }
  auto scores = mg::peer_scores(by_index, samples, voting(peers, 3, 0.0), torch::kCPU);
  ASSERT_EQ(scores.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(scores[i], want[i]) << samples[i].answer;
}

// Peer k samples from derive_seed(seed, k): two copies of one model vote as two peers with
// their own draws, not as one peer counted twice. The scores are the shares of those draws,
// and a prompt's votes depend on its index and the seed alone, not on the other prompts
// scored with it (as on one rank of several).
TEST(PeerVote, EachPeerDrawsItsOwnStream) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto twins = peers_from(tk, {7, 7});
  const std::vector<std::string> prompts = {"12+345=", "5+60=", "73+58=", "98+1="};
  auto how = voting(twins, 5, 1.0);
  auto draw = [&](uint64_t k) {
    mg::GenerateRequest req;
    req.prompts = prompts;
    req.samples = how.samples;
    req.sampling = how.sampling;
    req.seed = mg::derive_seed(how.seed, mg::SeedPurpose::PeerSampling, {k});
    req.max_new_tokens = how.max_new_tokens;
    return mg::generate_answers(twins[k].model, tk, req, torch::kCPU);
  };
  auto d0 = draw(0), d1 = draw(1);
  ASSERT_NE(d0, d1) << "the twins drew the same answers";
  std::vector<mg::ScoredSample> samples;
  std::vector<double> want;
  for (size_t p = 0; p < prompts.size(); ++p)
    for (const std::string& x : d0[p]) {
      samples.push_back({static_cast<int>(p), static_cast<int>(samples.size()), x, 0.0, false});
      want.push_back((std::count(d0[p].begin(), d0[p].end(), x) + std::count(d1[p].begin(), d1[p].end(), x)) / 10.0);
    }
  auto scores = mg::peer_scores(prompts, samples, how, torch::kCPU);
  ASSERT_EQ(scores.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(scores[i], want[i]) << samples[i].answer;
  std::vector<mg::ScoredSample> last(samples.end() - 5, samples.end());
  auto alone = mg::peer_scores(prompts, last, how, torch::kCPU);
  for (size_t i = 0; i < alone.size(); ++i) EXPECT_DOUBLE_EQ(alone[i], scores[scores.size() - 5 + i]);
}

TEST(PeerVote, WithoutPeersIsBadInput) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  std::vector<mg::ScoredSample> samples = {{0, 0, "1", 0.0, false}};
  mg::PeerVoting none;
  EXPECT_THROW(mg::peer_scores({"1+1="}, samples, none, torch::kCPU), mg::Error);
  std::vector<mg::Peer> empty;
  EXPECT_THROW(mg::peer_scores({"1+1="}, samples, voting(empty, 2, 0.0), torch::kCPU), mg::Error);
}

}  // namespace
