#include "trainers/stages/verify.h"

#include <map>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "trainers/sampling/answers.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/seeds.h"
#include "trainers/verifiers/consistency.h"
#include "trainers/verifiers/likelihood.h"
#include "trainers/verifiers/tournament.h"
#include "trainers/verifiers/verdict.h"

namespace mg {

std::vector<ScoredSample> self_verify(Gpt& model, const Tokenizer& tokenizer, const Verifiers& verifiers,
                                      const std::vector<std::string>& prompts, std::vector<ScoredSample>& samples,
                                      const torch::Device& device) {
  const VerifyConfig& config = verifiers.config;
  std::vector<ScoredSample> check;
  auto model_scores = [&](VerifyMethod method) {
    // Unique (prompt, answer) pairs only: identical samples get identical scores.
    std::map<std::pair<int, std::string>, size_t> unique;
    VerdictRequest req;
    req.method = method;
    req.format = config.format;
    req.max_derivation_tokens = verifiers.max_derivation_tokens;
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
  auto confidence = [&](VerifyMethod method) {
    std::vector<std::string> texts, answers;
    for (const auto& s : samples) {
      texts.push_back(prompts.at(s.prompt));
      answers.push_back(s.answer);
    }
    return confidence_scores(model, tokenizer, texts, answers, method, device);
  };
  PeerVoting peers = verifiers.peers;
  peers.peers = verifiers.with_peers ? &verifiers.peer_models : nullptr;
  auto method_scores = [&](VerifyMethod method) -> std::vector<double> {
    switch (method) {
    case VerifyMethod::Consistency: return consistency_scores(samples);
    case VerifyMethod::Equivalent:
      return equivalence_scores(model, tokenizer, prompts, samples, verifiers.equivalent, device, &check);
    case VerifyMethod::Peers: return peer_scores(prompts, samples, peers, device);
    case VerifyMethod::Tournament: return tournament_scores(model, tokenizer, prompts, samples, device);
    case VerifyMethod::Mc:
    case VerifyMethod::Score: return model_scores(method);
    case VerifyMethod::Likelihood:
    case VerifyMethod::SelfCertainty: return confidence(method);
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
  return check;
}

void require_peer_rounds(const RunContext& ctx, int round) {
  if (verify_uses(ctx.recipe.improve.verify, VerifyMethod::Peers) && !fs::exists(ctx.run.round_tmp(round) / "scored.jsonl"))
    for (const auto& peer : ctx.recipe.improve.verify.peers) peer_round(ctx.recipe, peer, round - 1);
}

Verifiers make_verifiers(RunContext& ctx, const Round& round, const VerifyConfig& config) {
  const auto index = static_cast<uint64_t>(round.index);
  const int answer_tokens = max_answer_tokens(*ctx.task, round.difficulty);
  VerifierDraws draws;
  draws.samples = ctx.recipe.improve.samples_per_prompt;
  draws.sampling = ctx.recipe.improve.sampling;
  draws.max_new_tokens = answer_tokens;
  draws.max_derivation_tokens = answer_tokens + 1;
  draws.equivalent_seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::EquivalentSampling, {index});
  draws.peer_seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::PeerSampling, {index});
  draws.peer_round = round.index - 1;
  return make_verifiers(ctx, config, draws);
}

Verifiers make_verifiers(RunContext& ctx, const VerifyConfig& config, const VerifierDraws& draws) {
  Verifiers v;
  v.config = config;
  v.max_derivation_tokens = draws.max_derivation_tokens;
  v.equivalent = equivalent_rewrites(ctx.task.get(), config);
  v.equivalent.samples = draws.samples;
  v.equivalent.sampling = draws.sampling;
  v.equivalent.seed = draws.equivalent_seed;
  v.equivalent.max_new_tokens = draws.max_new_tokens;
  v.with_peers = draws.peer_round >= 0;
  if (v.with_peers && verify_uses(config, VerifyMethod::Peers)) {
    v.peer_models = load_peers(ctx.recipe, draws.peer_round, ctx.device);
    std::string names;
    for (const auto& p : v.peer_models)
      names += (names.empty() ? "" : ", ") + p.dir + " (round " + std::to_string(p.round) + ")";
    if (ctx.writer()) log::info("verify: the peers that vote are " + names);
  }
  v.peers.samples = draws.samples;
  v.peers.sampling = draws.sampling;
  v.peers.seed = draws.peer_seed;
  v.peers.max_new_tokens = draws.max_new_tokens;
  return v;
}

Verified stage_verify(RunContext& ctx, Gpt& model, const Round& round, const std::vector<ScoredSample>& samples,
                      const VerifyConfig& config) {
  std::vector<ScoredSample> mine;
  for (const auto& s : samples)
    if (s.prompt % ctx.comm->world_size() == ctx.comm->rank()) mine.push_back(s);
  const Verifiers verifiers = make_verifiers(ctx, round, config);
  std::vector<ScoredSample> answers;
  if (!mine.empty()) answers = self_verify(model, *ctx.tokenizer, verifiers, round.prompts, mine, ctx.device);
  for (auto& a : answers) {
    a.sample = ctx.recipe.improve.samples_per_prompt;  // the candidate after the prompt's samples
    a.correct = ctx.task->grade(round.problems.at(a.prompt).prompt, a.answer);  // metrics only
  }
  Verified out;
  out.check = gather_samples(*ctx.comm, answers);
  out.samples = gather_samples(*ctx.comm, mine);
  return out;
}

Verified Verify::read(const std::filesystem::path& dir) const { return split_candidates(read_samples(dir / file)); }

void Verify::write(const std::filesystem::path& dir, const Verified& v) const {
  write_samples(dir / file, join_candidates(v), true);
}

}  // namespace mg
