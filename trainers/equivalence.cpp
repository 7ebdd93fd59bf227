#include "trainers/equivalence.h"

#include <map>
#include <optional>
#include <set>

#include "core/errors.h"
#include "trainers/consistency.h"
#include "trainers/generate.h"

namespace mg {

namespace {

// Every shifted answer moved back by the model's own sums (verify.offset: model), in place.
// Each distinct sum is asked once, greedily (the model's best answer to a problem it was
// trained on), so every shifted answer that needs the same sum gets the same one. An answer,
// or a sum, that cannot be read becomes the unreadable vote.
void move_back_by_model(Gpt& model, const Tokenizer& tokenizer, const EquivalentSampling& how,
                        const std::vector<std::string>& prompts, const std::vector<int>& original,
                        const std::vector<std::string>& offsets, std::vector<std::vector<std::string>>& answers,
                        const torch::Device& device) {
  const std::string unreadable(1, '\0');
  auto original_prompt = [&](size_t i) -> const std::string& { return prompts.at(static_cast<size_t>(original[i])); };
  std::map<std::string, std::string> sums;  // sum prompt -> the model's answer
  std::vector<std::vector<std::optional<std::string>>> asks(answers.size());  // per answer: its sum prompt
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    for (const auto& answer : answers[i]) {
      asks[i].push_back(how.task->offset_sum_prompt(original_prompt(i), answer, offsets[i]));
      if (const auto& q = asks[i].back(); q && !q->empty()) sums.emplace(*q, std::string());
    }
  }
  if (!sums.empty()) {
    GenerateRequest ask;
    for (const auto& [q, unused] : sums) ask.prompts.push_back(q);
    ask.sampling.temperature = 0.0;
    ask.max_new_tokens = how.max_new_tokens;
    auto said = generate_answers(model, tokenizer, ask, device);
    size_t n = 0;
    for (auto& [q, answer] : sums) answer = said[n++].at(0);
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    for (size_t j = 0; j < answers[i].size(); ++j) {
      std::string& answer = answers[i][j];
      const auto& q = asks[i][j];
      std::optional<std::string> moved;
      if (q) moved = how.task->join_offset_sum(original_prompt(i), answer, offsets[i], q->empty() ? "" : sums.at(*q));
      answer = moved.value_or(unreadable);
    }
  }
}

}  // namespace

std::vector<double> equivalence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<ScoredSample>& samples, const EquivalentSampling& how,
                                       const torch::Device& device) {
  if (how.task == nullptr) fail_input("verify.method equivalent: this command cannot sample equivalent prompts");
  if (how.samples < 1) fail_input("verify.method equivalent: needs at least one sample per prompt");
  std::set<int> prompt_ids;
  for (const ScoredSample& s : samples) prompt_ids.insert(s.prompt);

  if (how.rewrites < 1) fail_input("verify.rewrites: needs at least one rewrite per prompt");
  if (how.shifted < 0) fail_input("verify.shifted: must not be negative");
  const int per_prompt = how.rewrites + how.shifted;

  GenerateRequest req;
  req.samples = how.samples;
  req.sampling = how.sampling;
  req.seed = how.seed;
  req.max_new_tokens = how.max_new_tokens;
  std::vector<std::string> offsets;  // per rewrite; empty: the same answer
  for (int p : prompt_ids) {
    const std::string& prompt = prompts.at(static_cast<size_t>(p));
    auto missing = [&](const char* kind, int k) {
      fail_input("verify.method equivalent: task " + how.task->name() + " has no " + kind + " prompt " +
                 std::to_string(k) + " for '" + prompt + "'");
    };
    for (int k = 0; k < per_prompt; ++k) {
      if (k < how.rewrites) {
        auto rewritten = how.task->equivalent_prompt(prompt, k);
        if (!rewritten) missing("equivalent", k);
        req.prompts.push_back(*rewritten);
        offsets.emplace_back();
      } else {
        auto shifted = how.task->shifted_prompt(prompt, k - how.rewrites);
        if (!shifted) missing("shifted", k - how.rewrites);
        req.prompts.push_back(shifted->prompt);
        offsets.push_back(shifted->offset);
      }
      // Rewrite k of prompt p draws its own stream; with one rewrite the id is p itself.
      req.prompt_ids.push_back(static_cast<uint64_t>(p) * static_cast<uint64_t>(per_prompt) +
                               static_cast<uint64_t>(k));
    }
  }
  // The answers to every rewrite vote, each under the prompt index of its original. A
  // shifted answer that cannot be read as a number votes for nothing: it stays in the count.
  const std::string unreadable(1, '\0');
  std::vector<ScoredSample> voters;
  if (!req.prompts.empty()) {
    auto answers = generate_answers(model, tokenizer, req, device);
    std::vector<int> original;  // per rewrite: the prompt index it was written from
    for (int p : prompt_ids) original.insert(original.end(), static_cast<size_t>(per_prompt), p);
    if (how.offset_by_model) move_back_by_model(model, tokenizer, how, prompts, original, offsets, answers, device);
    size_t i = 0;
    for (int p : prompt_ids)
      for (int k = 0; k < per_prompt; ++k, ++i)
        for (size_t j = 0; j < answers[i].size(); ++j) {
          std::string answer = answers[i][j];
          if (!offsets[i].empty() && !how.offset_by_model)
            answer = how.task->shift_answer(prompts.at(static_cast<size_t>(p)), answer, offsets[i]).value_or(unreadable);
          voters.push_back({p, static_cast<int>(k * how.samples + static_cast<int>(j)), std::move(answer), 0.0, false});
        }
  }
  return vote_shares(samples, voters);
}

}  // namespace mg
