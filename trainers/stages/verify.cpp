#include "trainers/stages/verify.h"

#include <map>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "trainers/decode/answers.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/seeds.h"
#include "trainers/verifiers/consistency.h"
#include "trainers/verifiers/tournament.h"
#include "trainers/verifiers/verdict.h"

namespace mg {

void self_verify(Gpt& model, const Tokenizer& tokenizer, const VerifyConfig& config,
                 const std::vector<std::string>& prompts, std::vector<ScoredSample>& samples,
                 int max_derivation_tokens, const torch::Device& device, const EquivalentSampling& equivalent,
                 const PeerVoting& peers, std::vector<ScoredSample>* check) {
  if (check) check->clear();
  auto model_scores = [&](VerifyMethod method) {
    // Unique (prompt, answer) pairs only: identical samples get identical scores.
    std::map<std::pair<int, std::string>, size_t> unique;
    VerdictRequest req;
    req.method = method;
    req.format = config.format;
    req.max_derivation_tokens = max_derivation_tokens;
    for (const auto& s : samples) {
      auto key = std::make_pair(s.prompt, s.answer);
      if (unique.emplace(key, req.prompts.size()).second) {
        req.prompts.push_back(prompts.at(s.prompt));
        req.candidates.push_back(s.answer);
      }
    }
    auto u = verdict_scores(model, tokenizer, req, device);
    std::vector<double> out;
    out.reserve(samples.size());
    for (const auto& s : samples) out.push_back(u[unique.at({s.prompt, s.answer})]);
    return out;
  };
  auto method_scores = [&](VerifyMethod method) -> std::vector<double> {
    switch (method) {
    case VerifyMethod::Consistency: return consistency_scores(samples);
    case VerifyMethod::Equivalent:
      return equivalence_scores(model, tokenizer, prompts, samples, equivalent, device, check);
    case VerifyMethod::Peers: return peer_scores(prompts, samples, peers, device);
    case VerifyMethod::Tournament: return tournament_scores(model, tokenizer, prompts, samples, device);
    case VerifyMethod::Mc:
    case VerifyMethod::Score: return model_scores(method);
    case VerifyMethod::Ensemble: break;
    }
    fail_internal("verify: an ensemble inside an ensemble");
  };
  std::vector<double> scores;
  if (verify_method(config.method) == VerifyMethod::Ensemble) {
    std::vector<std::vector<double>> parts;
    for (const auto& m : config.ensemble) parts.push_back(method_scores(verify_method(m)));
    scores = combine_scores(parts, config.combine);
  } else {
    scores = method_scores(verify_method(config.method));
  }
  for (size_t i = 0; i < samples.size(); ++i) samples[i].score = scores[i];
}

void require_peer_rounds(const RunContext& ctx, int round) {
  if (verify_uses(ctx.recipe.improve.verify, VerifyMethod::Peers) && !fs::exists(ctx.run.round_tmp(round) / "scored.jsonl"))
    for (const auto& peer : ctx.recipe.improve.verify.peers) peer_round(ctx.recipe, peer, round - 1);
}

Verified stage_verify(RunContext& ctx, Gpt& model, const Round& r, const std::vector<ScoredSample>& samples) {
  const int round = r.index;
  const std::vector<Problem>& problems = r.problems;
  const bool adopt = ctx.recipe.improve.filter.adopt;
  const std::vector<std::string>& prompts = r.prompts;
  std::vector<ScoredSample> mine;
  for (const auto& s : samples)
    if (s.prompt % ctx.comm->world_size() == ctx.comm->rank()) mine.push_back(s);
  const int answer_tokens = max_answer_tokens(*ctx.task, r.difficulty);
  EquivalentSampling equivalent = equivalent_rewrites(ctx.task.get(), ctx.recipe.improve.verify);
  equivalent.samples = ctx.recipe.improve.samples_per_prompt;
  equivalent.sampling = ctx.recipe.improve.sampling;
  equivalent.seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::EquivalentSampling, {static_cast<uint64_t>(round)});
  equivalent.max_new_tokens = answer_tokens;
  // The peers' checkpoints of the round whose model drew these samples (round - 1).
  std::vector<Peer> peer_models;
  if (verify_uses(ctx.recipe.improve.verify, VerifyMethod::Peers)) {
    peer_models = load_peers(ctx.recipe, round - 1, ctx.device);
    std::string names;
    for (const auto& p : peer_models) names += (names.empty() ? "" : ", ") + p.dir + " (round " + std::to_string(p.round) + ")";
    if (ctx.writer()) log::info("verify: the peers that vote are " + names);
  }
  PeerVoting peers;
  peers.peers = &peer_models;
  peers.samples = ctx.recipe.improve.samples_per_prompt;
  peers.sampling = ctx.recipe.improve.sampling;
  peers.seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::PeerSampling, {static_cast<uint64_t>(round)});
  peers.max_new_tokens = answer_tokens;
  std::vector<ScoredSample> answers;
  if (!mine.empty())
    self_verify(model, *ctx.tokenizer, ctx.recipe.improve.verify, prompts, mine, answer_tokens + 1, ctx.device,
                equivalent, peers, adopt ? &answers : nullptr);
  Verified out;
  if (adopt) {
    for (auto& a : answers) {
      a.sample = ctx.recipe.improve.samples_per_prompt;  // the candidate after the prompt's samples
      a.correct = ctx.task->grade(problems.at(a.prompt).prompt, a.answer);  // metrics only
    }
    out.check = gather_samples(*ctx.comm, answers);
  }
  out.samples = gather_samples(*ctx.comm, mine);
  return out;
}

Verified read_verified(const std::filesystem::path& dir) { return split_candidates(read_samples(dir / "scored.jsonl")); }

void write_verified(const std::filesystem::path& dir, const Verified& v) {
  write_samples(dir / "scored.jsonl", join_candidates(v), true);
}

}  // namespace mg
