// The generator's own confidence as verify methods (trainers/verifiers/likelihood.h): the scores
// through the fused log-prob kernel equal a reference written with plain tensor operators
// (the full logits, log_softmax, gather) on a micro model, for answers of different lengths,
// garbage included, and an answer too long for max_seq scores 0.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/untrained_addition.h"
#include "trainers/verifiers/likelihood.h"

namespace {

using mg::VerifyMethod;

// exp(mean log p) and mean(1 - H / log V) over the answer's tokens and <eoa>, from the full logits.
std::pair<double, double> reference(mg::Gpt& model, const mg::Tokenizer& tk, const std::string& prompt,
                                    const std::string& answer) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto [ids, weights] = tk.encode_example(mg::generation_example({prompt, answer}));
  const auto tokens = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end()), torch::kInt64).unsqueeze(0);
  const auto logp = torch::log_softmax(model->forward(tokens.narrow(1, 0, tokens.size(1) - 1)).to(torch::kFloat64), -1)[0];
  const double log_v = std::log(static_cast<double>(logp.size(-1)));
  double lp = 0, certainty = 0;
  int n = 0;
  for (size_t t = 1; t < ids.size(); ++t) {
    if (weights[t] <= 0) continue;  // the prompt
    const auto row = logp[static_cast<int64_t>(t) - 1];
    lp += row[ids[t]].item<double>();
    certainty += 1.0 + (row.exp() * row).sum().item<double>() / log_v;  // 1 - H / log V
    ++n;
  }
  return {std::exp(lp / n), certainty / n};
}

TEST(Likelihood, ScoresEqualTheFullLogitsReference) {
  auto task = mg::testing::addition();
  auto tk = mg::testing::tokenizer_for(*task);
  auto model = mg::testing::untrained(tk.vocab_size());
  const std::vector<std::string> prompts = {"12+34=", "7+5=", "99+1=", "3+3=", "12+34="};
  const std::vector<std::string> answers = {"640", "21", "0010", "x9", "64"};
  for (auto method : {VerifyMethod::Likelihood, VerifyMethod::SelfCertainty}) {
    // Rows of 2: batches of unequal lengths, padded.
    const auto got = mg::confidence_scores(model, tk, prompts, answers, method, torch::kCPU, /*max_rows=*/2);
    ASSERT_EQ(got.size(), prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto [lik, cert] = reference(model, tk, prompts[i], answers[i]);
      const double want = method == VerifyMethod::Likelihood ? lik : cert;
      EXPECT_NEAR(got[i], want, 1e-5) << mg::name_of(method) << " " << prompts[i] << answers[i];
      EXPECT_GT(got[i], 0.0);
      EXPECT_LE(got[i], 1.0);
    }
  }
  // The same pair scores the same whatever else shares its batch.
  const auto alone = mg::confidence_scores(model, tk, {prompts[1]}, {answers[1]}, VerifyMethod::Likelihood, torch::kCPU);
  const auto mixed = mg::confidence_scores(model, tk, prompts, answers, VerifyMethod::Likelihood, torch::kCPU);
  EXPECT_NEAR(alone[0], mixed[1], 1e-6);
}

TEST(Likelihood, AnAnswerLongerThanTheModelScoresZero) {
  auto task = mg::testing::addition();
  auto tk = mg::testing::tokenizer_for(*task);
  auto model = mg::testing::untrained(tk.vocab_size());  // max_seq 32
  const std::string runaway(40, '1');
  const auto got = mg::confidence_scores(model, tk, {"1+1=", "1+1="}, {runaway, "2"}, VerifyMethod::SelfCertainty,
                                         torch::kCPU);
  EXPECT_EQ(got[0], 0.0);
  EXPECT_GT(got[1], 0.0);
}

}  // namespace
