// Verify method `equivalent`: a sample's score is the share of the model's answers to the
// rewritten prompt (b+a for a+b) that equal it. Checked on an untrained model decoded greedily,
// whose answers to the rewrites are computed independently with generate_answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>

#include "core/errors.h"
#include "trainers/equivalence.h"
#include "trainers/generate.h"
#include "tests/untrained_addition.h"

namespace {

using mg::testing::addition;
using mg::testing::tokenizer_for;
using mg::testing::untrained;

mg::EquivalentSampling greedy(const mg::Task* task, int samples) {
  mg::EquivalentSampling how;
  how.task = task;
  how.samples = samples;
  how.sampling.temperature = 0.0;
  how.seed = 5;
  how.max_new_tokens = 6;
  return how;
}

TEST(Equivalence, ScoreIsAgreementWithTheRewrittenPromptsAnswers) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size());
  const std::vector<std::string> prompts = {"12+345=", "7+7=", "5+60=", "98+1="};

  // The model's greedy answers to the rewritten prompts, computed directly.
  mg::GenerateRequest req;
  for (const auto& p : prompts) req.prompts.push_back(*task->equivalent_prompt(p, 0));
  req.sampling.temperature = 0.0;
  req.max_new_tokens = 6;
  auto rewritten = mg::generate_answers(model, tk, req, torch::kCPU);

  // Per prompt: the rewrite's answer (every greedy sample agrees: 1) and an answer no
  // decoding can produce (0). Prompt indices are not contiguous, as on one rank of several.
  std::vector<std::string> by_index(8);
  std::vector<mg::ScoredSample> samples;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const int p = static_cast<int>(2 * i + 1);
    by_index[p] = prompts[i];
    samples.push_back({p, 0, rewritten[i][0], 0.0, false});
    samples.push_back({p, 1, "not an answer", 0.0, false});
  }
  auto scores = mg::equivalence_scores(model, tk, by_index, samples, greedy(task.get(), 3), torch::kCPU);
  ASSERT_EQ(scores.size(), samples.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_DOUBLE_EQ(scores[2 * i], 1.0) << prompts[i];
    EXPECT_DOUBLE_EQ(scores[2 * i + 1], 0.0) << prompts[i];
  }
}

// With several rewrites every rewrite's answers vote: the score is the share, over all of
// them, that equal the sample (checked against each rewrite's greedy answer, decoded apart).
TEST(Equivalence, EveryRewriteVotes) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size());
  const std::vector<std::string> prompts = {"12+345=", "73+58=", "456+789="};
  const int rewrites = 3;
  mg::GenerateRequest req;
  for (const auto& p : prompts)
    for (int k = 0; k < rewrites; ++k) req.prompts.push_back(*task->equivalent_prompt(p, k));
  req.sampling.temperature = 0.0;
  req.max_new_tokens = 6;
  auto answers = mg::generate_answers(model, tk, req, torch::kCPU);

  std::vector<mg::ScoredSample> samples;
  std::vector<double> want;
  for (size_t i = 0; i < prompts.size(); ++i)
    for (int k : {0, rewrites - 1}) {
      const std::string& x = answers[i * rewrites + k][0];
      int agree = 0;
      for (int j = 0; j < rewrites; ++j) agree += answers[i * rewrites + j][0] == x;
      samples.push_back({static_cast<int>(i), k, x, 0.0, false});
      want.push_back(static_cast<double>(agree) / rewrites);
    }
  auto how = greedy(task.get(), 2);
  how.rewrites = rewrites;
  auto scores = mg::equivalence_scores(model, tk, prompts, samples, how, torch::kCPU);
  ASSERT_EQ(scores.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(scores[i], want[i]) << samples[i].answer;
  how.rewrites = 0;
  EXPECT_THROW(mg::equivalence_scores(model, tk, prompts, samples, how, torch::kCPU), mg::Error);
}

TEST(Equivalence, SampledScoresAreVoteShares) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size());
  std::vector<std::string> prompts = {"12+345=", "5+60="};
  std::vector<mg::ScoredSample> samples = {{0, 0, "1", 0.0, false}, {1, 0, "2", 0.0, false}};
  auto how = greedy(task.get(), 5);
  how.sampling.temperature = 1.0;
  auto a = mg::equivalence_scores(model, tk, prompts, samples, how, torch::kCPU);
  for (double s : a) EXPECT_DOUBLE_EQ(s * 5, std::round(s * 5)) << "not a share of 5 votes: " << s;
  // Same seed, same prompt index: the same votes, whatever else is in the batch.
  auto b = mg::equivalence_scores(model, tk, prompts, {samples[1]}, how, torch::kCPU);
  EXPECT_DOUBLE_EQ(b[0], a[1]);
}

TEST(Equivalence, TasksWithoutARewriteAreBadInput) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size());
  std::vector<mg::ScoredSample> samples = {{0, 0, "1", 0.0, false}};
  auto kind = [&](const std::vector<std::string>& prompts, const mg::Task* t) {
    try {
      mg::equivalence_scores(model, tk, prompts, samples, greedy(t, 2), torch::kCPU);
    } catch (const mg::Error& e) {
      return e.kind();
    }
    ADD_FAILURE() << "no mg::Error thrown";
    return mg::ErrorKind::Internal;
  };
  EXPECT_EQ(kind({"not a prompt"}, task.get()), mg::ErrorKind::BadInput);
  EXPECT_EQ(kind({"12+3="}, nullptr), mg::ErrorKind::BadInput);
}

}  // namespace

// Shifted rewrites vote too, each answer moved back by its rewrite's offset first; an answer
// that cannot be moved back (not a number of the answer's width) counts against every sample.
TEST(Equivalence, ShiftedRewritesVoteMovedBack) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size());
  const std::vector<std::string> prompts = {"12+345=", "73+58=", "456+789="};
  const std::vector<std::string> right = {"7530", "131", "5421"};  // 357, 131, 1245 reversed
  const int shifted = 2;
  mg::GenerateRequest req;
  std::vector<mg::ShiftedPrompt> rewrites;
  for (const auto& p : prompts) {
    req.prompts.push_back(*task->equivalent_prompt(p, 0));
    for (int k = 0; k < shifted; ++k) {
      rewrites.push_back(*task->shifted_prompt(p, k));
      req.prompts.push_back(rewrites.back().prompt);
    }
  }
  req.sampling.temperature = 0.0;
  req.max_new_tokens = 6;
  auto answers = mg::generate_answers(model, tk, req, torch::kCPU);
  const int per = 1 + shifted;
  // Each prompt's votes: the swap's answer as it is, the shifted ones moved back.
  std::vector<std::vector<std::string>> votes(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    votes[i].push_back(answers[i * per][0]);
    for (int k = 0; k < shifted; ++k) {
      auto moved = task->shift_answer(prompts[i], answers[i * per + 1 + k][0], rewrites[i * shifted + k].offset);
      votes[i].push_back(moved.value_or("(unreadable)"));
    }
  }
  std::vector<mg::ScoredSample> samples;
  std::vector<double> want;
  for (size_t i = 0; i < prompts.size(); ++i) {
    // Every vote's answer as a sample, and the right answer, which the untrained model
    // seldom gives (its score is then 0, not 1).
    std::vector<std::string> candidates = votes[i];
    candidates.push_back(right[i]);
    ASSERT_TRUE(task->grade(prompts[i], right[i])) << right[i];
    for (const auto& x : candidates) {
      if (x == "(unreadable)") continue;
      int agree = 0;
      for (const auto& v : votes[i]) agree += v == x;
      samples.push_back({static_cast<int>(i), static_cast<int>(samples.size()), x, 0.0, false});
      want.push_back(static_cast<double>(agree) / per);
    }
  }
  auto how = greedy(task.get(), 2);
  how.shifted = shifted;
  auto scores = mg::equivalence_scores(model, tk, prompts, samples, how, torch::kCPU);
  ASSERT_EQ(scores.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_DOUBLE_EQ(scores[i], want[i]) << samples[i].answer;
  how.shifted = -1;
  EXPECT_THROW(mg::equivalence_scores(model, tk, prompts, samples, how, torch::kCPU), mg::Error);
}

// verify.offset: model. Each shifted answer is moved back by the model's own greedy answer to
// the sum of its leading digits and the offset's, not by exact arithmetic: the votes are
// replicated here step by step, every sum decoded apart, and differ from the exact ones
// wherever the model's sum is wrong (an untrained model's nearly always is).
TEST(Equivalence, ShiftedAnswersMovedBackByTheModelsOwnSums) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size(), 11);
  const std::vector<std::string> prompts = {"12+345=", "73+58=", "456+789=", "95+87="};
  const int shifted = 3;
  auto how = greedy(task.get(), 1);
  how.shifted = shifted;
  how.offset_by_model = true;
  mg::GenerateRequest req;
  std::vector<mg::ShiftedPrompt> rewrites;
  for (const auto& p : prompts) {
    req.prompts.push_back(*task->equivalent_prompt(p, 0));
    for (int k = 0; k < shifted; ++k) {
      rewrites.push_back(*task->shifted_prompt(p, k));
      req.prompts.push_back(rewrites.back().prompt);
    }
  }
  req.sampling.temperature = 0.0;
  req.max_new_tokens = how.max_new_tokens;
  auto answers = mg::generate_answers(model, tk, req, torch::kCPU);
  const int per = 1 + shifted;
  // Any readable answer the model could give to a shifted prompt: its own, and the right one.
  std::vector<mg::ScoredSample> samples;
  std::vector<std::vector<std::string>> votes(prompts.size());
  int asked = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    votes[i].push_back(answers[i * per][0]);
    for (int k = 0; k < shifted; ++k) {
      const auto& r = rewrites[i * shifted + k];
      const std::string& said = answers[i * per + 1 + k][0];
      auto sum = task->offset_sum_prompt(prompts[i], said, r.offset);
      std::string vote = "(unreadable)";
      if (sum && sum->empty()) {
        vote = task->join_offset_sum(prompts[i], said, r.offset, "").value_or(vote);
      } else if (sum) {
        ++asked;
        mg::GenerateRequest ask;
        ask.prompts = {*sum};
        ask.sampling.temperature = 0.0;
        ask.max_new_tokens = how.max_new_tokens;
        auto sum_said = mg::generate_answers(model, tk, ask, torch::kCPU)[0][0];
        vote = task->join_offset_sum(prompts[i], said, r.offset, sum_said).value_or(vote);
      }
      votes[i].push_back(vote);
    }
    std::vector<std::string> candidates = votes[i];
    for (int k = 0; k < shifted; ++k) {
      const std::string& said = answers[i * per + 1 + k][0];
      if (auto exact = task->shift_answer(prompts[i], said, rewrites[i * shifted + k].offset)) candidates.push_back(*exact);
    }
    std::set<std::string> seen;
    for (const auto& x : candidates)
      if (x != "(unreadable)" && seen.insert(x).second)
        samples.push_back({static_cast<int>(i), static_cast<int>(samples.size()), x, 0.0, false});
  }
  auto scores = mg::equivalence_scores(model, tk, prompts, samples, how, torch::kCPU);
  ASSERT_EQ(scores.size(), samples.size());
  for (size_t n = 0; n < samples.size(); ++n) {
    const auto& v = votes[static_cast<size_t>(samples[n].prompt)];
    const double want = static_cast<double>(std::count(v.begin(), v.end(), samples[n].answer)) / per;
    EXPECT_DOUBLE_EQ(scores[n], want) << samples[n].answer;
  }
  std::cout << asked << " sums asked, " << samples.size() << " distinct answers scored\n";
}
