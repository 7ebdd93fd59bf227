#include "trainers/equivalence.h"

#include <map>
#include <set>

#include "core/errors.h"
#include "trainers/generate.h"

namespace mg {

std::vector<double> equivalence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<ScoredSample>& samples, const EquivalentSampling& how,
                                       const torch::Device& device) {
  if (how.task == nullptr) fail_input("verify.method equivalent: this command cannot sample equivalent prompts");
  if (how.samples < 1) fail_input("verify.method equivalent: needs at least one sample per prompt");
  std::set<int> prompt_ids;
  for (const ScoredSample& s : samples) prompt_ids.insert(s.prompt);

  GenerateRequest req;
  req.samples = how.samples;
  req.sampling = how.sampling;
  req.seed = how.seed;
  req.max_new_tokens = how.max_new_tokens;
  for (int p : prompt_ids) {
    auto rewritten = how.task->equivalent_prompt(prompts.at(static_cast<size_t>(p)));
    if (!rewritten)
      fail_input("verify.method equivalent: task " + how.task->name() + " has no equivalent prompt for '" +
                 prompts.at(static_cast<size_t>(p)) + "'");
    req.prompts.push_back(*rewritten);
    req.prompt_ids.push_back(static_cast<uint64_t>(p));
  }
  std::map<std::pair<int, std::string>, int> votes;  // (prompt, answer to the rewrite) -> count
  if (!req.prompts.empty()) {
    auto answers = generate_answers(model, tokenizer, req, device);
    size_t i = 0;
    for (int p : prompt_ids) {
      for (const auto& a : answers[i]) ++votes[{p, a}];
      ++i;
    }
  }
  std::vector<double> scores;
  scores.reserve(samples.size());
  for (const ScoredSample& s : samples) {
    auto it = votes.find({s.prompt, s.answer});
    scores.push_back(it == votes.end() ? 0.0 : static_cast<double>(it->second) / how.samples);
  }
  return scores;
}

}  // namespace mg
