// Filters on hand-made rounds: which samples survive, with which weights, and proof that only
// the oracle arm reads the grader's labels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

#include "core/errors.h"
#include "trainers/stages/filter.h"

namespace {

using mg::FilterConfig;
using mg::Kept;
using mg::ScoredSample;

// One prompt's samples from scores; answers are distinct ("0", "1", ...) unless given.
void add_prompt(std::vector<ScoredSample>& out, int prompt, const std::vector<double>& scores,
                const std::vector<bool>& correct = {}, const std::vector<std::string>& answers = {}) {
  for (size_t i = 0; i < scores.size(); ++i) {
    ScoredSample s;
    s.prompt = prompt;
    s.sample = static_cast<int>(i);
    s.answer = answers.empty() ? std::to_string(i) : answers[i];
    s.score = scores[i];
    s.correct = correct.empty() ? false : correct[i];
    out.push_back(s);
  }
}

FilterConfig config(const std::string& method, double keep = 0.5, const std::string& scope = "per_prompt",
                    bool dedup = false) {
  FilterConfig c;
  c.method = method;
  c.keep = keep;
  c.scope = mg::method_of(mg::kFilterScopes, scope, "filter.scope");  // the word, as a recipe gives it
  c.dedup = dedup;
  return c;
}

std::vector<std::pair<int, int>> keys(const std::vector<Kept>& kept) {
  std::vector<std::pair<int, int>> out;
  for (const Kept& k : kept) out.emplace_back(k.prompt, k.sample);
  return out;
}

using Keys = std::vector<std::pair<int, int>>;

TEST(Filter, QuantilePerPromptKeepsTopShareOfEachPrompt) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.1, 0.9, 0.5, 0.7});
  add_prompt(s, 1, {0.2, 0.3, 0.1});  // ceil(0.5 * 3) = 2
  const auto kept = mg::filter_samples(s, config("quantile", 0.5));
  EXPECT_EQ(keys(kept), (Keys{{0, 1}, {0, 3}, {1, 0}, {1, 1}}));
  for (const Kept& k : kept) EXPECT_EQ(k.weight, 1.0);
}

TEST(Filter, QuantileRoundsUpAndKeepsAtLeastOnePerPrompt) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9});
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.3))), (Keys{{0, 7}, {0, 8}, {0, 9}}));
  // 0.28 * 25 is 7.000000000000001 in doubles: still 7, not 8.
  std::vector<ScoredSample> many;
  std::vector<double> scores;
  for (int i = 0; i < 25; ++i) scores.push_back(i / 25.0);
  add_prompt(many, 0, scores);
  const auto kept = mg::filter_samples(many, config("quantile", 0.28));
  ASSERT_EQ(kept.size(), 7u);
  EXPECT_EQ(kept.front().sample, 18);
  // 0.25 * 10 = 2.5 -> 3.
  EXPECT_EQ(mg::filter_samples(s, config("quantile", 0.25)).size(), 3u);
  // A tiny share still keeps the best sample of each prompt.
  add_prompt(s, 1, {0.3, 0.2});
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.01))), (Keys{{0, 9}, {1, 0}}));
  EXPECT_EQ(mg::filter_samples(s, config("quantile", 1.0)).size(), s.size());
}

TEST(Filter, QuantileTiesGoToTheSmallerSampleIndex) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.5, 0.8, 0.5, 0.5, 0.8, 0.5});
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.5))), (Keys{{0, 0}, {0, 1}, {0, 4}}));
}

TEST(Filter, QuantileGlobalCanLeaveAPromptEmpty) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.9, 0.8, 0.7});  // an easy prompt
  add_prompt(s, 1, {0.2, 0.1, 0.3});  // a hard one
  add_prompt(s, 2, {0.7, 0.0, 0.0});
  // ceil(0.5 * 9) = 5: the three of prompt 0, then the 0.7 tie goes to (0, 2) then (2, 0).
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.5, "global"))),
            (Keys{{0, 0}, {0, 1}, {0, 2}, {1, 2}, {2, 0}}));
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.4, "global"))),  // ceil(3.6) = 4
            (Keys{{0, 0}, {0, 1}, {0, 2}, {2, 0}}));
  // Per prompt, the hard prompt keeps its best sample.
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.3))), (Keys{{0, 0}, {1, 2}, {2, 0}}));
}

TEST(Filter, BestOfNTakesTheTopOfEachPromptWithTiesToTheFirst) {
  std::vector<ScoredSample> s;
  add_prompt(s, 3, {0.1, 0.6, 0.6});
  add_prompt(s, 1, {0.9, 0.2});
  EXPECT_EQ(keys(mg::filter_samples(s, config("best_of_n"))), (Keys{{1, 0}, {3, 1}}));
}

TEST(Filter, ThresholdIsInclusive) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.5, 0.49, 0.75, 1.0});
  add_prompt(s, 1, {0.1, 0.2});
  FilterConfig c = config("threshold");
  c.threshold = 0.5;
  EXPECT_EQ(keys(mg::filter_samples(s, c)), (Keys{{0, 0}, {0, 2}, {0, 3}}));
  c.threshold = 0.99;
  EXPECT_EQ(keys(mg::filter_samples(s, c)), (Keys{{0, 3}}));
}

TEST(Filter, ReweightPerPromptIsSoftmaxWithMeanOnePerPrompt) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.0, 1.0});
  add_prompt(s, 1, {0.2, 0.2, 0.8});
  FilterConfig c = config("reweight");
  c.temperature = 0.5;
  const auto kept = mg::filter_samples(s, c);
  ASSERT_EQ(kept.size(), s.size());
  const double e = std::exp(2.0);  // exp((1 - 0) / 0.5)
  EXPECT_NEAR(kept[0].weight, 2.0 / (1 + e), 1e-12);
  EXPECT_NEAR(kept[1].weight, 2.0 * e / (1 + e), 1e-12);
  const double f = std::exp(0.6 / 0.5);
  EXPECT_NEAR(kept[2].weight, 3.0 / (2 + f), 1e-12);
  EXPECT_NEAR(kept[3].weight, 3.0 / (2 + f), 1e-12);
  EXPECT_NEAR(kept[4].weight, 3.0 * f / (2 + f), 1e-12);
  EXPECT_NEAR(kept[0].weight + kept[1].weight, 2.0, 1e-12);
  EXPECT_NEAR(kept[2].weight + kept[3].weight + kept[4].weight, 3.0, 1e-12);
}

TEST(Filter, ReweightGlobalNormalisesOverAllSamples) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.0, 1.0});
  add_prompt(s, 1, {1.0});
  FilterConfig c = config("reweight", 0.5, "global");
  c.temperature = 1.0;
  const auto kept = mg::filter_samples(s, c);
  const double e = std::exp(1.0), sum = 1 + 2 * e;
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_NEAR(kept[0].weight, 3.0 / sum, 1e-12);
  EXPECT_NEAR(kept[1].weight, 3.0 * e / sum, 1e-12);
  EXPECT_NEAR(kept[2].weight, 3.0 * e / sum, 1e-12);
}

TEST(Filter, ReweightSurvivesLargeScoresOverTinyTemperatures) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {1.0, 0.0, 1.0});
  FilterConfig c = config("reweight");
  c.temperature = 1e-4;  // exp(1e4) overflows without subtracting the maximum
  const auto kept = mg::filter_samples(s, c);
  EXPECT_NEAR(kept[0].weight, 1.5, 1e-12);
  EXPECT_NEAR(kept[1].weight, 0.0, 1e-12);
  EXPECT_NEAR(kept[2].weight, 1.5, 1e-12);
}

TEST(Filter, NoneKeepsAllAndOracleKeepsTheCorrect) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.9, 0.1, 0.5}, {false, true, true});
  add_prompt(s, 1, {0.3}, {false});
  EXPECT_EQ(keys(mg::filter_samples(s, config("none"))), (Keys{{0, 0}, {0, 1}, {0, 2}, {1, 0}}));
  EXPECT_EQ(keys(mg::filter_samples(s, config("oracle"))), (Keys{{0, 1}, {0, 2}}));
  EXPECT_TRUE(mg::is_control_arm("none"));
  EXPECT_TRUE(mg::is_control_arm("oracle"));
  EXPECT_FALSE(mg::is_control_arm("quantile"));
  EXPECT_FALSE(mg::is_control_arm("reweight"));
}

TEST(Filter, DedupKeepsTheFirstCopyPerPromptWithItsOwnWeight) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.2, 0.9, 0.9, 0.4}, {}, {"7", "5", "5", "7"});
  add_prompt(s, 1, {0.5, 0.5}, {}, {"5", "5"});  // the same text in another prompt is not a copy
  EXPECT_EQ(keys(mg::filter_samples(s, config("none", 0.5, "per_prompt", true))),
            (Keys{{0, 0}, {0, 1}, {1, 0}}));
  // Quantile picks (0,1), (0,2) [and (1,0)]; the copy (0,2) goes.
  EXPECT_EQ(keys(mg::filter_samples(s, config("quantile", 0.5, "per_prompt", true))), (Keys{{0, 1}, {1, 0}}));

  FilterConfig c = config("reweight", 0.5, "per_prompt", false);
  const auto all = mg::filter_samples(s, c);
  c.dedup = true;
  const auto deduped = mg::filter_samples(s, c);
  ASSERT_EQ(keys(deduped), (Keys{{0, 0}, {0, 1}, {1, 0}}));
  EXPECT_EQ(deduped[0].weight, all[0].weight);  // not multiplied by the two copies
  EXPECT_EQ(deduped[1].weight, all[1].weight);
  EXPECT_EQ(deduped[2].weight, all[4].weight);
  EXPECT_EQ(keys(mg::dedup_kept(s, all)), keys(deduped));
}

TEST(Filter, InputOrderDoesNotMatter) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.5, 0.8, 0.5, 0.2});
  add_prompt(s, 1, {0.8, 0.8, 0.1});
  auto shuffled = s;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const std::string scope : {"per_prompt", "global"}) {
    const auto a = mg::filter_samples(s, config("quantile", 0.5, scope));
    const auto b = mg::filter_samples(shuffled, config("quantile", 0.5, scope));
    EXPECT_EQ(keys(a), keys(b)) << scope;
  }
}

// Every filter but the oracle must give the same result when the grader's labels are shuffled.
TEST(Filter, OnlyTheOracleReadsTheLabels) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  std::vector<ScoredSample> s;
  for (int p = 0; p < 12; ++p)
    for (int i = 0; i < 6; ++i) {
      ScoredSample x;
      x.prompt = p;
      x.sample = i;
      x.answer = std::to_string(static_cast<int>(uni(rng) * 3));  // some copies for dedup
      x.score = std::round(uni(rng) * 10) / 10;                   // ties
      x.correct = uni(rng) < 0.4;
      s.push_back(x);
    }
  auto relabelled = s;
  std::vector<bool> labels;
  for (const auto& x : s) labels.push_back(x.correct);
  std::shuffle(labels.begin(), labels.end(), rng);
  for (size_t i = 0; i < s.size(); ++i) relabelled[i].correct = !labels[i];  // also flipped
  auto same = [](const std::vector<Kept>& a, const std::vector<Kept>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].prompt != b[i].prompt || a[i].sample != b[i].sample || a[i].weight != b[i].weight)
        return false;
    return true;
  };
  for (const std::string method : {"quantile", "best_of_n", "threshold", "reweight", "none"})
    for (const std::string scope : {"per_prompt", "global"})
      for (bool dedup : {false, true}) {
        const FilterConfig c = config(method, 0.4, scope, dedup);
        EXPECT_TRUE(same(mg::filter_samples(s, c), mg::filter_samples(relabelled, c)))
            << method << " " << scope << " dedup=" << dedup;
      }
  // The check above can fail: the oracle does change.
  EXPECT_FALSE(same(mg::filter_samples(s, config("oracle")),
                    mg::filter_samples(relabelled, config("oracle"))));
}

// filter.fallback check: a prompt with no kept sample trains on its check answer when the answer's share
// reaches the threshold (inclusive); a prompt that kept a sample does not; labels are not read.
TEST(Filter, FallbackAnswersFillOnlyPromptsWithNothingKept) {
  auto answer = [](int prompt, const std::string& text, double share, bool correct) {
    ScoredSample a;
    a.prompt = prompt;
    a.sample = 8;  // after a prompt's 8 samples
    a.from_check = true;
    a.answer = text;
    a.score = share;
    a.correct = correct;
    return a;
  };
  std::vector<ScoredSample> answers{answer(4, "7", 0.5, true), answer(0, "12", 0.9, true), answer(1, "3", 0.49, true),
                                    answer(2, "5", 1.0, false)};
  const std::vector<Kept> kept{{2, 0, 1.0}, {2, 3, 1.0}};
  auto fallback = mg::fallback_answers(kept, {{}, answers}, 0.5);
  EXPECT_EQ(keys(fallback), (Keys{{0, 8}, {4, 8}}));
  for (const Kept& k : fallback) EXPECT_DOUBLE_EQ(k.weight, 1.0);
  for (auto& a : answers) a.correct = !a.correct;
  EXPECT_EQ(keys(mg::fallback_answers(kept, {{}, answers}, 0.5)), keys(fallback));
  EXPECT_TRUE(mg::fallback_answers(kept, {}, 0.5).empty());
  answers[0].from_check = false;  // a sample, not the check's answer
  EXPECT_THROW(mg::fallback_answers(kept, {{}, answers}, 0.5), mg::Error);
}

TEST(Filter, RejectsBadConfigAndBadSamples) {
  std::vector<ScoredSample> s;
  add_prompt(s, 0, {0.1, 0.2});
  auto kind_of = [&](const std::vector<ScoredSample>& samples, const FilterConfig& c) {
    try {
      mg::filter_samples(samples, c);
    } catch (const mg::Error& e) {
      return static_cast<int>(e.kind());
    }
    return 0;
  };
  const int bad_input = static_cast<int>(mg::ErrorKind::BadInput);
  const int internal = static_cast<int>(mg::ErrorKind::Internal);
  EXPECT_EQ(kind_of(s, config("top_p")), bad_input);
  EXPECT_EQ(kind_of(s, config("quantile", 0.0)), bad_input);
  EXPECT_EQ(kind_of(s, config("quantile", 1.5)), bad_input);
  // A scope other than per_prompt or global cannot reach the filter: the recipe parser reads the
  // word into its enum and refuses others (RecipeOptions in test_recipe.cpp).
  FilterConfig cold = config("reweight");
  cold.temperature = 0;
  EXPECT_EQ(kind_of(s, cold), bad_input);

  auto twice = s;
  twice.push_back(s[0]);
  EXPECT_EQ(kind_of(twice, config("none")), internal);
  auto nan = s;
  nan[1].score = std::nan("");
  EXPECT_EQ(kind_of(nan, config("quantile")), internal);
  EXPECT_EQ(kind_of(nan, config("none")), 0);  // the control arms do not read scores
  EXPECT_TRUE(mg::filter_samples({}, config("quantile")).empty());
}

}  // namespace
