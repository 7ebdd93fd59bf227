#include "trainers/verifiers/equivalence.h"

#include <map>
#include <optional>
#include <set>

#include "core/errors.h"
#include "trainers/verifiers/consistency.h"
#include "trainers/sampling/answers.h"

namespace mg {

namespace {

// The vote of a shifted answer that cannot be moved back, or of a split that cannot be
// finished: no sample equals it, so it counts against every sample of its prompt.
const std::string kUnreadable(1, '\0');

// Every shifted answer moved back by exact arithmetic on it (verify.offset: exact), in place;
// the arguments are those of move_back_by_sums.
void move_back_exactly(const RewritingTask& task, const std::vector<std::string>& originals,
                       const std::vector<std::string>& offsets, std::vector<std::vector<std::string>>& answers) {
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    for (auto& answer : answers[i]) answer = task.shift_answer(originals.at(i), answer, offsets[i]).value_or(kUnreadable);
  }
}

// Every question in `asks` (question -> answer) answered by one call of `answer`, in place;
// none asked when there are none.
void answer_each(std::map<std::string, std::string>& asks, const SumAnswerer& answer, const char* what) {
  if (asks.empty()) return;
  std::vector<std::string> questions;
  for (const auto& [q, unused] : asks) questions.push_back(q);
  auto said = answer(questions);
  if (said.size() != questions.size())
    fail_internal(std::string(what) + ": " + std::to_string(said.size()) + " answers for " +
                  std::to_string(questions.size()) + " questions");
  size_t n = 0;
  for (auto& [q, a] : asks) a = std::move(said[n++]);
}

}  // namespace

EquivalentSampling equivalent_rewrites(const Task* task, const VerifyConfig& verify) {
  EquivalentSampling how;
  how.task = task;
  how.rewrites = verify.rewrites;
  how.shifted = verify.shifted;
  how.offset_by_model = verify.offset == OffsetBy::Model;
  how.split = verify.split;
  return how;
}

void move_back_by_sums(const RewritingTask& task, const std::vector<std::string>& originals,
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
  answer_each(sums, answer_sums, "verify.offset model");
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

void finish_splits(const RewritingTask& task, const std::vector<std::string>& originals, const std::vector<int>& splits,
                   std::vector<std::vector<std::string>>& answers, const SumAnswerer& answer_steps) {
  struct Chain {
    size_t rewrite, answer;
    std::vector<std::string> said;  // the model's answers to the chain's steps so far
  };
  std::vector<Chain> open;
  for (size_t i = 0; i < answers.size(); ++i)
    if (splits.at(i) >= 0)
      for (size_t j = 0; j < answers[i].size(); ++j) open.push_back({i, j, {answers[i][j]}});
  // A split has a handful of steps; a task that kept asking would be a bug, not a long check.
  constexpr int kMostSteps = 8;
  for (int step = 1; !open.empty(); ++step) {
    if (step > kMostSteps) fail_internal("verify.split: a split rewrite asked more than 8 steps");
    std::map<std::string, std::string> asks;  // step problem -> its answer
    std::vector<Chain> asking;
    std::vector<std::string> asked;  // per chain in `asking`: its next problem
    for (auto& chain : open) {
      auto next = task.split_step(originals.at(chain.rewrite), splits[chain.rewrite], chain.said);
      std::string& out = answers[chain.rewrite][chain.answer];
      if (!next) {
        out = kUnreadable;
      } else if (next->ask.empty()) {
        out = next->answer;
      } else {
        asks.emplace(next->ask, std::string());
        asked.push_back(next->ask);
        asking.push_back(std::move(chain));
      }
    }
    if (asks.empty()) break;
    answer_each(asks, answer_steps, "verify.split");
    for (size_t c = 0; c < asking.size(); ++c) asking[c].said.push_back(asks.at(asked[c]));
    open = std::move(asking);
  }
}

std::vector<double> equivalence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<ScoredSample>& samples, const EquivalentSampling& how,
                                       const torch::Device& device, std::vector<ScoredSample>* top) {
  if (how.task == nullptr) fail_input("verify.method equivalent: this command cannot sample equivalent prompts");
  const RewritingTask* rewriter = how.task->rewriter();
  if (rewriter == nullptr) fail_input("verify.method equivalent: task " + how.task->name() + " has no rewrites");
  if (how.samples < 1) fail_input("verify.method equivalent: needs at least one sample per prompt");
  std::set<int> prompt_ids;
  for (const ScoredSample& s : samples) prompt_ids.insert(s.prompt);

  if (how.rewrites < 1) fail_input("verify.rewrites: needs at least one rewrite per prompt");
  if (how.shifted < 0) fail_input("verify.shifted: must not be negative");
  if (how.split < 0) fail_input("verify.split: must not be negative");
  const int per_prompt = how.rewrites + how.shifted + how.split;

  GenerateRequest req;
  req.samples = how.samples;
  req.sampling = how.sampling;
  req.seed = how.seed;
  req.max_new_tokens = how.max_new_tokens;
  std::vector<std::string> offsets;  // per rewrite; empty: the same answer
  std::vector<int> splits;           // per rewrite: its split index; -1: not a split rewrite
  for (int p : prompt_ids) {
    const std::string& prompt = prompts.at(static_cast<size_t>(p));
    auto missing = [&](const char* kind, int k) {
      fail_input("verify.method equivalent: task " + how.task->name() + " has no " + kind + " prompt " +
                 std::to_string(k) + " for '" + prompt + "'");
    };
    for (int k = 0; k < per_prompt; ++k) {
      if (k < how.rewrites) {
        auto rewritten = rewriter->equivalent_prompt(prompt, k);
        if (!rewritten) missing("equivalent", k);
        req.prompts.push_back(*rewritten);
        offsets.emplace_back();
        splits.push_back(-1);
      } else if (k < how.rewrites + how.shifted) {
        auto shifted = rewriter->shifted_prompt(prompt, k - how.rewrites);
        if (!shifted) missing("shifted", k - how.rewrites);
        req.prompts.push_back(shifted->prompt);
        offsets.push_back(shifted->offset);
        splits.push_back(-1);
      } else {
        const int index = k - how.rewrites - how.shifted;
        auto first = rewriter->split_step(prompt, index, {});
        if (!first || first->ask.empty()) missing("split", index);
        req.prompts.push_back(first->ask);
        offsets.emplace_back();
        splits.push_back(index);
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
    // The model's greedy answer to each short sum: its best to a problem it was trained on.
    auto greedy = [&](const std::vector<std::string>& questions) {
      GenerateRequest ask;
      ask.prompts = questions;
      ask.sampling.temperature = 0.0;
      ask.max_new_tokens = how.max_new_tokens;
      std::vector<std::string> out;
      for (auto& a : generate_answers(model, tokenizer, ask, device)) out.push_back(std::move(a.at(0)));
      return out;
    };
    if (how.offset_by_model) {
      move_back_by_sums(*rewriter, originals, offsets, answers, greedy);
    } else {
      move_back_exactly(*rewriter, originals, offsets, answers);
    }
    finish_splits(*rewriter, originals, splits, answers, greedy);
    size_t i = 0;
    for (int p : prompt_ids)
      for (int k = 0; k < per_prompt; ++k, ++i)
        for (size_t j = 0; j < answers[i].size(); ++j)
          voters.push_back({p, static_cast<int>(k * how.samples + static_cast<int>(j)), std::move(answers[i][j]), 0.0,
                            false});
  }
  if (top) *top = top_votes(voters, kUnreadable);
  return vote_shares(samples, voters);
}

}  // namespace mg
