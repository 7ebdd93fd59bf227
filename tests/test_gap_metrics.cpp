// Gap metrics against hand-computed values and brute-force definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/errors.h"
#include "trainers/stages/gap_metrics.h"

namespace {

using mg::Kept;
using mg::ScoredSample;

ScoredSample sample(int prompt, int index, double score, bool correct) {
  ScoredSample s;
  s.prompt = prompt;
  s.sample = index;
  s.answer = std::to_string(index);
  s.score = score;
  s.correct = correct;
  return s;
}

// Two prompts of four samples: 3 of 8 correct.
std::vector<ScoredSample> round_of_eight() {
  return {sample(0, 0, 0.9, true),  sample(0, 1, 0.8, false), sample(0, 2, 0.4, true),
          sample(0, 3, 0.1, false), sample(1, 0, 0.7, false), sample(1, 1, 0.2, false),
          sample(1, 2, 0.3, false), sample(1, 3, 0.6, true)};
}

TEST(GapMetrics, HandComputedRound) {
  const std::vector<Kept> kept{{0, 0, 1.0}, {0, 1, 1.0}, {1, 3, 2.0}};
  const mg::GapMetrics m = mg::gap_metrics(round_of_eight(), kept, 2);
  EXPECT_DOUBLE_EQ(m.J_f, 3.0 / 8);
  EXPECT_DOUBLE_EQ(m.J_filtered, 3.0 / 4);  // (1 + 0 + 2) / (1 + 1 + 2)
  EXPECT_DOUBLE_EQ(m.gap, 3.0 / 8);
  EXPECT_DOUBLE_EQ(m.relative_gap, 0.6);    // 0.375 / 0.625
  EXPECT_DOUBLE_EQ(m.pass1, (0.5 + 0.25) / 2);
  // pass@2: prompt 0 (n 4, c 2): 1 - C(2,2)/C(4,2) = 5/6; prompt 1 (c 1): 1 - C(3,2)/C(4,2) = 1/2.
  EXPECT_NEAR(m.passk, (5.0 / 6 + 0.5) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(m.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.recall, 2.0 / 3);
  // Positives 0.9, 0.4, 0.6 against negatives 0.8, 0.1, 0.7, 0.2, 0.3: 5 + 3 + 3 of 15 pairs.
  EXPECT_DOUBLE_EQ(m.auroc, 11.0 / 15);
  // Within each prompt: prompt 0 ranks 3 of its 4 (right, wrong) pairs right, prompt 1 2 of 3.
  EXPECT_DOUBLE_EQ(m.auroc_within, (3.0 / 4 + 2.0 / 3) / 2);
  EXPECT_EQ(m.kept, 3);
  EXPECT_EQ(m.prompts, 2);
}

TEST(GapMetrics, Pass1WeighsPromptsAlikeWhileJfWeighsSamples) {
  const std::vector<ScoredSample> s{sample(0, 0, 0.5, true), sample(1, 0, 0.5, false),
                                    sample(1, 1, 0.5, false), sample(1, 2, 0.5, false)};
  const auto m = mg::gap_metrics(s, {}, 1);
  EXPECT_DOUBLE_EQ(m.J_f, 0.25);
  EXPECT_DOUBLE_EQ(m.pass1, 0.5);
  EXPECT_DOUBLE_EQ(m.passk, m.pass1);  // pass@1 is the mean share of correct samples
}

TEST(GapMetrics, UndefinedQuantitiesAreNaNAndPerfectRoundsHaveNoRelativeGap) {
  auto s = round_of_eight();
  const auto nothing = mg::gap_metrics(s, {}, 1);
  EXPECT_TRUE(std::isnan(nothing.J_filtered));
  EXPECT_TRUE(std::isnan(nothing.gap));
  EXPECT_TRUE(std::isnan(nothing.precision));
  EXPECT_DOUBLE_EQ(nothing.recall, 0.0);
  const auto j = mg::to_json(nothing);
  EXPECT_TRUE(j["J_filtered"].is_null());
  EXPECT_TRUE(j["precision"].is_null());
  EXPECT_NE(j.dump().find("\"gap\":null"), std::string::npos) << j.dump();

  for (auto& x : s) x.correct = true;
  const auto perfect = mg::gap_metrics(s, {{0, 0, 1.0}}, 4);
  EXPECT_DOUBLE_EQ(perfect.J_f, 1.0);
  EXPECT_DOUBLE_EQ(perfect.gap, 0.0);
  EXPECT_DOUBLE_EQ(perfect.relative_gap, 0.0);
  EXPECT_DOUBLE_EQ(perfect.passk, 1.0);
  EXPECT_DOUBLE_EQ(perfect.auroc, 0.5);  // one class absent

  for (auto& x : s) x.correct = false;
  EXPECT_TRUE(std::isnan(mg::gap_metrics(s, {{0, 0, 1.0}}, 1).recall));
}

TEST(GapMetrics, RejectsKLargerThanAPromptsSamplesAndUnknownKept) {
  const auto s = round_of_eight();
  try {
    mg::gap_metrics(s, {}, 5);
    FAIL() << "k = 5 > 4 samples was accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
  }
  EXPECT_THROW(mg::gap_metrics(s, {}, 0), mg::Error);
  EXPECT_THROW(mg::gap_metrics(s, {{2, 0, 1.0}}, 1), mg::Error);
  EXPECT_THROW(mg::gap_metrics(s, {{0, 0, 1.0}, {0, 0, 1.0}}, 1), mg::Error);
  EXPECT_THROW(mg::gap_metrics(s, {{0, 0, -1.0}}, 1), mg::Error);
}

double choose(int n, int k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// pass@k by enumerating every k-subset of n samples (the first c correct).
double pass_at_k_brute(int n, int c, int k) {
  int hit = 0, total = 0;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != k) continue;
    ++total;
    hit += (mask & ((1u << c) - 1)) != 0 ? 1 : 0;
  }
  return static_cast<double>(hit) / total;
}

TEST(GapMetrics, PassAtKMatchesEnumerationAndTheBinomialFormula) {
  for (int n = 1; n <= 10; ++n)
    for (int c = 0; c <= n; ++c)
      for (int k = 1; k <= n; ++k) {
        const double got = mg::pass_at_k(n, c, k);
        EXPECT_NEAR(got, pass_at_k_brute(n, c, k), 1e-12) << n << " " << c << " " << k;
        EXPECT_NEAR(got, 1.0 - choose(n - c, k) / choose(n, k), 1e-12) << n << " " << c << " " << k;
      }
  // Large n: the product form neither overflows nor loses the answer.
  EXPECT_NEAR(mg::pass_at_k(1000, 1, 10), 0.01, 1e-12);
}

double auroc_brute(const std::vector<double>& s, const std::vector<bool>& y) {
  double won = 0;
  int pairs = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (y[i] && !y[j]) {
        ++pairs;
        won += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
      }
  return won / pairs;
}

TEST(GapMetrics, AurocMatchesPairwiseCountOnRandomDataWithTies) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 2 + trial * 3;
    std::vector<double> scores;
    std::vector<bool> labels;
    for (int i = 0; i < n; ++i) {
      labels.push_back(uni(rng) < 0.4);
      // Coarse scores (many ties), loosely related to the label.
      scores.push_back(std::round((uni(rng) + (labels.back() ? 0.3 : 0.0)) * 5) / 5);
    }
    labels[0] = true;
    labels[1] = false;
    EXPECT_NEAR(mg::auroc(scores, labels), auroc_brute(scores, labels), 1e-12) << "trial " << trial;
  }
  EXPECT_DOUBLE_EQ(mg::auroc({0.1, 0.9}, {false, true}), 1.0);
  EXPECT_DOUBLE_EQ(mg::auroc({0.1, 0.9}, {true, false}), 0.0);
  EXPECT_DOUBLE_EQ(mg::auroc({0.5, 0.5, 0.5}, {true, false, false}), 0.5);
  EXPECT_DOUBLE_EQ(mg::auroc({0.2, 0.3}, {true, true}), 0.5);
  EXPECT_DOUBLE_EQ(mg::auroc({}, {}), 0.5);
}

TEST(GapMetrics, JsonHasEveryField) {
  const auto j = mg::to_json(mg::gap_metrics(round_of_eight(), {{0, 0, 1.0}}, 2));
  for (const char* key : {"J_f", "J_filtered", "gap", "relative_gap", "pass1", "passk", "precision",
                          "recall", "auroc", "auroc_within", "kept", "prompts"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_DOUBLE_EQ(j["J_filtered"].get<double>(), 1.0);
  EXPECT_EQ(j["kept"].get<int>(), 1);
  EXPECT_EQ(j.size(), 12u);
}

// A score that only tells an easy prompt from a hard one ranks globally but not within a prompt:
// the filter, which chooses among one prompt's samples, gains nothing from it. Prompts whose
// samples are all right or all wrong have nothing to rank and are left out of the mean.
TEST(GapMetrics, WithinPromptAurocIgnoresWhatOnlySeparatesPrompts) {
  const std::vector<ScoredSample> easy_hard = {
      sample(0, 0, 0.9, true), sample(0, 1, 0.9, false), sample(0, 2, 0.9, true),   // easy prompt, flat score
      sample(1, 0, 0.1, false), sample(1, 1, 0.1, true), sample(1, 2, 0.1, false),  // hard prompt, flat score
      sample(2, 0, 0.5, true), sample(2, 1, 0.2, true)};                            // all right: left out
  EXPECT_NEAR(mg::gap_metrics(easy_hard, {}, 1).auroc, 10.0 / 15, 1e-12);  // ties count half
  EXPECT_DOUBLE_EQ(mg::within_prompt_auroc(easy_hard), 0.5);
  EXPECT_TRUE(std::isnan(mg::within_prompt_auroc({sample(0, 0, 0.3, true), sample(0, 1, 0.1, true)})));
}

}  // namespace
