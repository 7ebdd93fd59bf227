#include "trainers/equivalence.h"

#include <map>
#include <optional>
#include <set>

#include "core/errors.h"
#include "trainers/consistency.h"
#include "trainers/generate.h"

namespace mg {

namespace {

// The vote of a shifted answer that cannot be moved back: no sample equals it, so it counts
// against every sample of its prompt.
const std::string kUnreadable(1, '\0');

// Every shifted answer moved back by exact arithmetic on it (verify.offset: exact), in place;
// the arguments are those of move_back_by_sums.
void move_back_exactly(const Task& task, const std::vector<std::string>& originals,
                       const std::vector<std::string>& offsets, std::vector<std::vector<std::string>>& answers) {
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    for (auto& answer : answers[i]) answer = task.shift_answer(originals.at(i), answer, offsets[i]).value_or(kUnreadable);
  }
}

}  // namespace

void move_back_by_sums(const Task& task, const std::vector<std::string>& originals,
                       const std::vector<std::string>& offsets, std::vector<std::vector<std::string>>& answers,
                       const SumAnswerer& answer_sums) {
  std::map<std::string, std::string> sums;  // sum prompt -> its answer
  std::vector<std::vector<std::optional<std::string>>> asks(answers.size());  // per answer: its sum prompt
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    for (const auto& answer : answers[i]) {
      asks[i].push_back(task.offset_sum_prompt(originals.at(i), answer, offsets[i]));
      if (const auto& q = asks[i].back(); q && !q->empty()) sums.emplace(*q, std::string());
    }
  }
  if (!sums.empty()) {
    std::vector<std::string> questions;
    for (const auto& [q, unused] : sums) questions.push_back(q);
    auto said = answer_sums(questions);
    if (said.size() != questions.size())
      fail_internal("verify.offset model: " + std::to_string(said.size()) + " sums answered for " +
                    std::to_string(questions.size()) + " asked");
    size_t n = 0;
    for (auto& [q, answer] : sums) answer = std::move(said[n++]);
  }
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    for (size_t j = 0; j < answers[i].size(); ++j) {
      std::string& answer = answers[i][j];
      const auto& q = asks[i][j];
      std::optional<std::string> moved;
      if (q) moved = task.join_offset_sum(originals.at(i), answer, offsets[i], q->empty() ? "" : sums.at(*q));
      answer = moved.value_or(kUnreadable);
    }
  }
}

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
  // The answers to every rewrite vote, each under the prompt index of its original, shifted
  // ones once moved back. A shifted answer that cannot be read as a number votes for nothing:
  // it stays in the count.
  std::vector<ScoredSample> voters;
  if (!req.prompts.empty()) {
    auto answers = generate_answers(model, tokenizer, req, device);
    std::vector<std::string> originals;  // per rewrite: the prompt it was written from
    for (int p : prompt_ids)
      originals.insert(originals.end(), static_cast<size_t>(per_prompt), prompts.at(static_cast<size_t>(p)));
    if (how.offset_by_model) {
      // The model's greedy answer to each sum: its best to a problem it was trained on.
      move_back_by_sums(*how.task, originals, offsets, answers, [&](const std::vector<std::string>& questions) {
        GenerateRequest ask;
        ask.prompts = questions;
        ask.sampling.temperature = 0.0;
        ask.max_new_tokens = how.max_new_tokens;
        std::vector<std::string> out;
        for (auto& a : generate_answers(model, tokenizer, ask, device)) out.push_back(std::move(a.at(0)));
        return out;
      });
    } else {
      move_back_exactly(*how.task, originals, offsets, answers);
    }
    size_t i = 0;
    for (int p : prompt_ids)
      for (int k = 0; k < per_prompt; ++k, ++i)
        for (size_t j = 0; j < answers[i].size(); ++j)
          voters.push_back({p, static_cast<int>(k * how.samples + static_cast<int>(j)), std::move(answers[i][j]), 0.0,
                            false});
  }
  return vote_shares(samples, voters);
}

}  // namespace mg
