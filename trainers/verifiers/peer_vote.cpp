#include "trainers/verifiers/peer_vote.h"

#include <set>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/run/run_dir.h"
#include "models/gpt_config.h"
#include "trainers/verifiers/consistency.h"
#include "trainers/curriculum/curriculum.h"
#include "trainers/sampling/answers.h"
#include "trainers/run/run_context.h"
#include "trainers/run/seeds.h"

namespace mg {
namespace {

[[noreturn]] void fail_peer(const std::string& dir, const std::string& what) {
  fail_input("improve.verify.peers: " + dir + ": " + what);
}

Recipe peer_recipe(const Recipe& recipe, const std::string& dir) {
  RunDir run;
  run.root = dir;
  if (!fs::exists(run.recipe())) fail_peer(dir, "not a run directory (no recipe.yaml)");
  Recipe peer = parse_recipe(fs::read_file(run.recipe()), run.recipe().string());
  // The peer reads this run's prompts as text and its answers are compared as text: the
  // task and the way its problems are written must be the same.
  const TaskConfig &mine = recipe.task, &theirs = peer.task;
  auto differs = [&](const std::string& key, const std::string& a, const std::string& b) {
    if (a != b)
      fail_peer(dir, "task." + key + " is " + b + " there and " + a + " here; a peer must write problems alike");
  };
  differs("name", mine.name, theirs.name);
  differs("reverse_answer", std::to_string(mine.reverse_answer), std::to_string(theirs.reverse_answer));
  differs("reverse_operands", std::to_string(mine.reverse_operands), std::to_string(theirs.reverse_operands));
  differs("pad_to", std::to_string(mine.pad_to), std::to_string(theirs.pad_to));
  differs("size", std::to_string(mine.size), std::to_string(theirs.size));
  return peer;
}

int resolve_round(const Recipe& peer, const std::string& dir, int model_round) {
  RunDir run;
  run.root = dir;
  const int latest = read_latest(run);
  if (latest >= model_round) return model_round;
  // A complete adaptive curriculum runs no further round: its last one stays its best.
  if (latest >= 1 && adaptive_curriculum(peer)) {
    if (curriculum_positions(peer, committed_records(run, latest)).back().complete) return latest;
  }
  fail_peer(dir, "has no committed round " + std::to_string(model_round) + " (its newest is " +
                     (latest < 0 ? std::string("none") : std::to_string(latest)) +
                     "); peers run in lockstep, one round at a time (tools/peers.sh)");
}

}  // namespace

int peer_round(const Recipe& recipe, const std::string& dir, int model_round) {
  return resolve_round(peer_recipe(recipe, dir), dir, model_round);
}

std::vector<Peer> load_peers(const Recipe& recipe, int model_round, const torch::Device& device) {
  std::vector<Peer> out;
  for (const std::string& dir : recipe.improve.verify.peers) {
    const Recipe theirs = peer_recipe(recipe, dir);
    Peer p;
    p.dir = dir;
    p.round = resolve_round(theirs, dir, model_round);
    RunDir run;
    run.root = dir;
    if (!fs::exists(run.tokenizer())) fail_peer(dir, "has no tokenizer.model");
    p.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(run.tokenizer().string()));
    p.model = Gpt(GptConfig::from(theirs.model, p.tokenizer->vocab_size()));
    load_round_weights(run, p.round, p.model, device);
    p.model->eval();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<double> peer_scores(const std::vector<std::string>& prompts, const std::vector<ScoredSample>& samples,
                                const PeerVoting& how, const torch::Device& device) {
  if (how.peers == nullptr) fail_input("verify.method peers: this command cannot load peer runs");
  if (how.peers->empty()) fail_input("improve.verify.peers: verify method peers needs at least one peer run directory");
  if (how.samples < 1) fail_input("verify.method peers: needs at least one sample per prompt");
  std::set<int> prompt_ids;
  for (const ScoredSample& s : samples) prompt_ids.insert(s.prompt);
  std::vector<ScoredSample> voters;
  if (prompt_ids.empty()) return vote_shares(samples, voters);
  for (size_t k = 0; k < how.peers->size(); ++k) {
    const Peer& peer = (*how.peers)[k];
    GenerateRequest req;
    req.samples = how.samples;
    req.sampling = how.sampling;
    req.seed = derive_seed(how.seed, SeedPurpose::PeerSampling, {static_cast<uint64_t>(k)});
    req.max_new_tokens = how.max_new_tokens;
    for (int p : prompt_ids) {
      req.prompts.push_back(prompts.at(static_cast<size_t>(p)));
      req.prompt_ids.push_back(static_cast<uint64_t>(p));
    }
    Gpt model = peer.model;  // a handle: generation switches the module's mode, not its weights
    auto answers = generate_answers(model, *peer.tokenizer, req, device);
    size_t i = 0;
    for (int p : prompt_ids) {
      for (size_t j = 0; j < answers[i].size(); ++j)
        voters.push_back({p, static_cast<int>(k * how.samples + j), answers[i][j], 0.0, false});
      ++i;
    }
  }
  return vote_shares(samples, voters);
}

}  // namespace mg
