// Verify method `equivalent`: a sample's score is the share of the model's answers to the
// rewritten prompt (b+a for a+b) that equal it. Checked on an untrained model decoded greedily,
// whose answers to the rewrites are computed independently with generate_answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <set>

#include "core/errors.h"
#include "trainers/verifiers/equivalence.h"
#include "trainers/sampling/answers.h"
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
  for (const auto& p : prompts) req.prompts.push_back(*task->rewriter()->equivalent_prompt(p, 0));
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
    for (int k = 0; k < rewrites; ++k) req.prompts.push_back(*task->rewriter()->equivalent_prompt(p, k));
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

namespace {

// Per prompt, its swap and `shifted` shifted rewrites, in that order, as equivalence_scores
// writes them, and the model's greedy answer to each, decoded apart from it.
struct Rewrites {
  std::vector<mg::ShiftedPrompt> shifted;  // prompt i's shifted rewrite k at i * shifted + k
  std::vector<std::vector<std::string>> answers;
};
Rewrites greedy_rewrites(const mg::Task& task, mg::Gpt& model, const mg::Tokenizer& tk,
                         const std::vector<std::string>& prompts, int shifted) {
  Rewrites out;
  mg::GenerateRequest req;
  for (const auto& p : prompts) {
    req.prompts.push_back(*task.rewriter()->equivalent_prompt(p, 0));
    for (int k = 0; k < shifted; ++k) {
      out.shifted.push_back(*task.rewriter()->shifted_prompt(p, k));
      req.prompts.push_back(out.shifted.back().prompt);
    }
  }
  req.sampling.temperature = 0.0;
  req.max_new_tokens = 6;
  out.answers = mg::generate_answers(model, tk, req, torch::kCPU);
  return out;
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
  auto [rewrites, answers] = greedy_rewrites(*task, model, tk, prompts, shifted);
  const int per = 1 + shifted;
  // Each prompt's votes: the swap's answer as it is, the shifted ones moved back.
  std::vector<std::vector<std::string>> votes(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    votes[i].push_back(answers[i * per][0]);
    for (int k = 0; k < shifted; ++k) {
      auto moved = task->rewriter()->shift_answer(prompts[i], answers[i * per + 1 + k][0], rewrites[i * shifted + k].offset);
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

// verify.offset: model, wired to the model. Each shifted answer is moved back by the model's
// own greedy answer to the sum of its leading digits and the offset's: the votes are replicated
// here step by step, every sum decoded apart. An untrained model seldom writes a shifted answer
// that can be read, so few sums (often none) are asked here: the move back itself is checked
// apart from any model by MovedBackBySumsAsTheExactMoveWhenTheSumsAreRight.
TEST(Equivalence, ShiftedAnswersMovedBackByTheModelsOwnSums) {
  auto task = addition();
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size(), 11);
  const std::vector<std::string> prompts = {"12+345=", "73+58=", "456+789=", "95+87="};
  const int shifted = 3;
  auto how = greedy(task.get(), 1);
  how.shifted = shifted;
  how.offset_by_model = true;
  auto [rewrites, answers] = greedy_rewrites(*task, model, tk, prompts, shifted);
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
      auto sum = task->rewriter()->offset_sum_prompt(prompts[i], said, r.offset);
      std::string vote = "(unreadable)";
      if (sum && sum->empty()) {
        vote = task->rewriter()->join_offset_sum(prompts[i], said, r.offset, "").value_or(vote);
      } else if (sum) {
        ++asked;
        mg::GenerateRequest ask;
        ask.prompts = {*sum};
        ask.sampling.temperature = 0.0;
        ask.max_new_tokens = how.max_new_tokens;
        auto sum_said = mg::generate_answers(model, tk, ask, torch::kCPU)[0][0];
        vote = task->rewriter()->join_offset_sum(prompts[i], said, r.offset, sum_said).value_or(vote);
      }
      votes[i].push_back(vote);
    }
    std::vector<std::string> candidates = votes[i];
    for (int k = 0; k < shifted; ++k) {
      const std::string& said = answers[i * per + 1 + k][0];
      if (auto exact = task->rewriter()->shift_answer(prompts[i], said, rewrites[i * shifted + k].offset)) candidates.push_back(*exact);
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

namespace {

// The right answer to a short addition prompt, found by the grader among every digit string of
// up to 4 characters: a test's stand-in for a model that adds short numbers without error.
std::string graded_answer(const mg::Task& task, const std::string& prompt) {
  for (int width = 1; width <= 4; ++width) {
    int limit = 1;
    for (int d = 0; d < width; ++d) limit *= 10;
    for (int n = 0; n < limit; ++n) {
      std::string x = std::to_string(n);
      x = std::string(static_cast<size_t>(width) - x.size(), '0') + x;
      if (task.grade(prompt, x)) return x;
    }
  }
  ADD_FAILURE() << "no answer of up to 4 digits to " << prompt;
  return "";
}

// A stand-in for the model the checks ask their later questions of (offset sums, split
// steps): it answers each question exactly, but in its first `wrong_calls` calls it gives a
// realistic wrong answer to each. It counts its calls, keeps every question, and fails the
// test if one call asks the same question twice.
struct StandInAdder {
  const mg::Task& task;
  int wrong_calls = 0;
  int calls = 0;
  std::vector<std::string> asked;

  mg::SumAnswerer answerer() {
    return [this](const std::vector<std::string>& questions) {
      EXPECT_EQ(std::set<std::string>(questions.begin(), questions.end()).size(), questions.size())
          << "a question was asked twice in one call";
      const bool wrong = calls < wrong_calls;
      ++calls;
      asked.insert(asked.end(), questions.begin(), questions.end());
      std::vector<std::string> out;
      for (const auto& q : questions) {
        const std::string right = graded_answer(task, q);
        out.push_back(wrong ? task.wrong_answer({q, right}, 1) : right);
      }
      return out;
    };
  }
};

}  // namespace

// The move back of verify.offset: model, apart from any model. Given right sums, it equals the
// exact move (RewritingTask::shift_answer) on right, wrong and unreadable answers; given wrong sums, no
// right answer survives it; each distinct sum is asked once; same-sum rewrites are untouched.
TEST(Equivalence, MovedBackBySumsAsTheExactMoveWhenTheSumsAreRight) {
  auto task = addition();
  const std::vector<std::string> prompts = {"62+85=", "12+345=", "456+789=", "99+1=", "50+50=", "7+8="};
  std::vector<std::string> originals, offsets;
  std::vector<std::vector<std::string>> answers;
  for (const auto& p : prompts) {
    originals.push_back(p);  // a same-sum rewrite's answers: left as they are
    offsets.emplace_back();
    answers.push_back({"123", "x"});
    for (int k = 0; k < 3; ++k) {
      auto shifted = task->rewriter()->shifted_prompt(p, k);
      ASSERT_TRUE(shifted) << p;
      const std::string right = graded_answer(*task, shifted->prompt);
      originals.push_back(p);
      offsets.push_back(shifted->offset);
      answers.push_back({right, task->wrong_answer({shifted->prompt, right}, 3 + k), "x", ""});
    }
  }

  StandInAdder exact{*task};
  auto moved = answers;
  mg::move_back_by_sums(*task->rewriter(), originals, offsets, moved, exact.answerer());
  EXPECT_EQ(exact.calls, 1);
  EXPECT_FALSE(exact.asked.empty());
  const std::string unreadable(1, '\0');
  int right_moved = 0;
  for (size_t i = 0; i < answers.size(); ++i)
    for (size_t j = 0; j < answers[i].size(); ++j) {
      if (offsets[i].empty()) {
        EXPECT_EQ(moved[i][j], answers[i][j]);
        continue;
      }
      const std::string exact = task->rewriter()->shift_answer(originals[i], answers[i][j], offsets[i]).value_or(unreadable);
      EXPECT_EQ(moved[i][j], exact) << originals[i] << " offset " << offsets[i] << " answer " << answers[i][j];
      if (j == 0) {
        EXPECT_TRUE(task->grade(originals[i], moved[i][j])) << originals[i] << " moved back to " << moved[i][j];
        ++right_moved;
      }
      if (j == 1) EXPECT_FALSE(task->grade(originals[i], moved[i][j])) << originals[i];
    }
  EXPECT_EQ(right_moved, static_cast<int>(prompts.size()) * 3);

  // Sums answered wrongly (each a realistic wrong answer): a right shifted answer no longer
  // moves back to a right answer.
  StandInAdder wrong{*task, 1};
  auto misled = answers;
  mg::move_back_by_sums(*task->rewriter(), originals, offsets, misled, wrong.answerer());
  EXPECT_EQ(wrong.calls, 1);
  for (size_t i = 0; i < answers.size(); ++i) {
    if (offsets[i].empty()) continue;
    const auto sum = task->rewriter()->offset_sum_prompt(originals[i], answers[i][0], offsets[i]);
    ASSERT_TRUE(sum) << originals[i];
    // A zero offset asks nothing, so nothing can mislead it.
    if (sum->empty()) {
      EXPECT_TRUE(task->grade(originals[i], misled[i][0])) << originals[i];
    } else {
      EXPECT_FALSE(task->grade(originals[i], misled[i][0])) << originals[i] << " offset " << offsets[i];
    }
  }
}

// The chains of verify.split, apart from any model. Given exact answers to every later step,
// a right first answer ends at the problem's right answer and a wrong one at a wrong answer;
// an unreadable one votes for nothing; each step's distinct problems are asked once, in one
// call per step; other rewrites are untouched. Given a wrong later answer, no chain is right.
TEST(Equivalence, SplitChainsCarryTheFirstAnswerThroughTheLaterSteps) {
  auto task = addition();
  const std::vector<std::string> prompts = {"62+85=", "12+345=", "456+789=", "99+1=", "50+50=", "95+87="};
  std::vector<std::string> originals;
  std::vector<int> splits;
  std::vector<std::vector<std::string>> answers;
  for (const auto& p : prompts) {
    originals.push_back(p);  // a same-sum rewrite's answers: left as they are
    splits.push_back(-1);
    answers.push_back({"123", "x"});
    for (int k = 0; k < 3; ++k) {
      auto first = task->rewriter()->split_step(p, k, {});
      ASSERT_TRUE(first && !first->ask.empty()) << p;
      const std::string right = graded_answer(*task, first->ask);
      originals.push_back(p);
      splits.push_back(k);
      answers.push_back({right, task->wrong_answer({first->ask, right}, 3 + k), "x"});
    }
  }
  StandInAdder exact{*task};
  auto finished = answers;
  mg::finish_splits(*task->rewriter(), originals, splits, finished, exact.answerer());
  EXPECT_GE(exact.calls, 1);
  EXPECT_LE(exact.calls, 2);  // the carry step, then the upper parts' sum
  const std::string unreadable(1, '\0');
  for (size_t i = 0; i < answers.size(); ++i) {
    if (splits[i] < 0) {
      EXPECT_EQ(finished[i], answers[i]);
      continue;
    }
    EXPECT_TRUE(task->grade(originals[i], finished[i][0])) << originals[i] << " -> " << finished[i][0];
    EXPECT_FALSE(task->grade(originals[i], finished[i][1])) << originals[i] << " -> " << finished[i][1];
    EXPECT_EQ(finished[i][2], unreadable);
  }
  // The second step of every chain answered wrongly, the rest exactly: one wrong step (two
  // could cancel, a carry one too high and a sum one too low).
  StandInAdder wrong_once{*task, 1};
  auto misled = answers;
  mg::finish_splits(*task->rewriter(), originals, splits, misled, wrong_once.answerer());
  for (size_t i = 0; i < answers.size(); ++i)
    if (splits[i] >= 0) EXPECT_FALSE(task->grade(originals[i], misled[i][0])) << originals[i] << " -> " << misled[i][0];
  // Split rewrites of a task without them are bad input, named as such.
  mg::EquivalentSampling how;
  how.split = -1;
  auto tk = tokenizer_for(*task);
  auto model = untrained(tk.vocab_size(), 3);
  how.task = task.get();
  std::vector<mg::ScoredSample> samples = {{0, 0, "741", 0.0, false}};
  EXPECT_THROW(mg::equivalence_scores(model, tk, {"62+85="}, samples, how, torch::kCPU), mg::Error);
}
