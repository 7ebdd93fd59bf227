#include "trainers/equivalence.h"

#include <set>

#include "core/errors.h"
#include "trainers/consistency.h"
#include "trainers/generate.h"

namespace mg {

std::vector<double> equivalence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<ScoredSample>& samples, const EquivalentSampling& how,
                                       const torch::Device& device) {
  if (how.task == nullptr) fail_input("verify.method equivalent: this command cannot sample equivalent prompts");
  if (how.samples < 1) fail_input("verify.method equivalent: needs at least one sample per prompt");
  std::set<int> prompt_ids;
  for (const ScoredSample& s : samples) prompt_ids.insert(s.prompt);

  if (how.rewrites < 1) fail_input("verify.rewrites: needs at least one rewrite per prompt");

  GenerateRequest req;
  req.samples = how.samples;
  req.sampling = how.sampling;
  req.seed = how.seed;
  req.max_new_tokens = how.max_new_tokens;
  for (int p : prompt_ids)
    for (int k = 0; k < how.rewrites; ++k) {
      auto rewritten = how.task->equivalent_prompt(prompts.at(static_cast<size_t>(p)), k);
      if (!rewritten)
        fail_input("verify.method equivalent: task " + how.task->name() + " has no equivalent prompt " +
                   std::to_string(k) + " for '" + prompts.at(static_cast<size_t>(p)) + "'");
      req.prompts.push_back(*rewritten);
      // Rewrite k of prompt p draws its own stream; with one rewrite the id is p itself.
      req.prompt_ids.push_back(static_cast<uint64_t>(p) * static_cast<uint64_t>(how.rewrites) +
                               static_cast<uint64_t>(k));
    }
  // The answers to every rewrite vote, each under the prompt index of its original.
  std::vector<ScoredSample> voters;
  if (!req.prompts.empty()) {
    auto answers = generate_answers(model, tokenizer, req, device);
    size_t i = 0;
    for (int p : prompt_ids)
      for (int k = 0; k < how.rewrites; ++k, ++i)
        for (size_t j = 0; j < answers[i].size(); ++j)
          voters.push_back({p, static_cast<int>(k * how.samples + static_cast<int>(j)), answers[i][j], 0.0, false});
  }
  return vote_shares(samples, voters);
}

}  // namespace mg
