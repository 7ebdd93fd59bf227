// Majority-vote scores and the combination of several methods' scores.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "trainers/verifiers/consistency.h"

namespace {

mg::ScoredSample sample(int prompt, int index, const std::string& answer) {
  mg::ScoredSample s;
  s.prompt = prompt;
  s.sample = index;
  s.answer = answer;
  return s;
}

TEST(Consistency, ShareOfThePromptsSamplesThatAgree) {
  // Input order is mixed on purpose; scores come back in input order.
  const std::vector<mg::ScoredSample> s{sample(0, 0, "12"), sample(1, 0, "12"), sample(0, 1, "12"),
                                        sample(0, 2, "13"), sample(1, 1, "7"),  sample(0, 3, "12"),
                                        sample(2, 0, "")};
  const auto scores = mg::consistency_scores(s);
  ASSERT_EQ(scores.size(), s.size());
  EXPECT_DOUBLE_EQ(scores[0], 0.75);  // "12" is 3 of prompt 0's 4
  EXPECT_DOUBLE_EQ(scores[1], 0.5);   // prompt 1's "12" does not count prompt 0's
  EXPECT_DOUBLE_EQ(scores[2], 0.75);
  EXPECT_DOUBLE_EQ(scores[3], 0.25);
  EXPECT_DOUBLE_EQ(scores[4], 0.5);
  EXPECT_DOUBLE_EQ(scores[5], 0.75);
  EXPECT_DOUBLE_EQ(scores[6], 1.0);   // alone: agrees with itself
  EXPECT_TRUE(mg::consistency_scores({}).empty());
}

TEST(Consistency, AnswersMustMatchExactly) {
  const std::vector<mg::ScoredSample> s{sample(0, 0, "12"), sample(0, 1, "12 "), sample(0, 2, "012")};
  for (double v : mg::consistency_scores(s)) EXPECT_DOUBLE_EQ(v, 1.0 / 3);
}

// The `equivalent` method's count: votes come from other samples (answers to b+a) than
// the ones scored; a prompt without voters scores 0.
TEST(Consistency, VoteSharesAmongOtherVoters) {
  const std::vector<mg::ScoredSample> scored{sample(0, 0, "12"), sample(0, 1, "13"), sample(1, 0, "7"),
                                             sample(2, 0, "5")};
  const std::vector<mg::ScoredSample> voters{sample(1, 0, "7"), sample(0, 0, "12"), sample(0, 1, "12"),
                                             sample(0, 2, "14"), sample(1, 1, "8")};
  EXPECT_EQ(mg::vote_shares(scored, voters), (std::vector<double>{2.0 / 3, 0.0, 0.5, 0.0}));
}

// The threshold filter's fallback candidate: per prompt, the answer most voters give and its share; the
// unreadable vote (a check that could not finish) counts in the share but is never chosen,
// and a tie goes to the smaller text.
TEST(Consistency, TopVotesPerPrompt) {
  const std::string unreadable(1, '\0');
  const std::vector<mg::ScoredSample> voters{
      sample(2, 0, "9"), sample(0, 0, "12"), sample(0, 1, unreadable), sample(0, 2, unreadable),
      sample(0, 3, unreadable), sample(0, 4, "13"), sample(0, 5, "12"), sample(2, 1, "8"),
      sample(3, 0, unreadable)};
  const auto top = mg::top_votes(voters, unreadable);
  ASSERT_EQ(top.size(), 2u) << "prompt 3 has only an unreadable vote, prompt 1 none";
  EXPECT_EQ(top[0].prompt, 0);
  EXPECT_TRUE(top[0].from_check);
  EXPECT_EQ(top[0].answer, "12");
  EXPECT_DOUBLE_EQ(top[0].score, 2.0 / 6) << "the three unreadable votes count against it";
  EXPECT_EQ(top[1].prompt, 2);
  EXPECT_EQ(top[1].answer, "8") << "a tie goes to the smaller text";
  EXPECT_DOUBLE_EQ(top[1].score, 0.5);
  EXPECT_TRUE(mg::top_votes({}, unreadable).empty());
}

TEST(CombineScores, MeanAndMinimum) {
  const std::vector<std::vector<double>> per_method{{0.2, 0.9, 0.5}, {0.6, 0.1, 0.5}, {1.0, 0.5, 0.2}};
  const auto mean = mg::combine_scores(per_method, mg::CombineBy::Mean);
  ASSERT_EQ(mean.size(), 3u);
  EXPECT_NEAR(mean[0], 0.6, 1e-12);
  EXPECT_NEAR(mean[1], 0.5, 1e-12);
  EXPECT_NEAR(mean[2], 0.4, 1e-12);
  EXPECT_EQ(mg::combine_scores(per_method, mg::CombineBy::And), (std::vector<double>{0.2, 0.1, 0.2}));
  EXPECT_EQ(mg::combine_scores({{0.3, 0.4}}, mg::CombineBy::Mean), (std::vector<double>{0.3, 0.4}));
}

// An unknown rule ("or") cannot reach here: the recipe parser reads verify.combine into its
// enum and refuses other words (RecipeOptions in test_recipe.cpp).
TEST(CombineScores, RejectsMismatchedMethods) {
  EXPECT_THROW(mg::combine_scores({{0.1, 0.2}, {0.3}}, mg::CombineBy::Mean), mg::Error);
  EXPECT_THROW(mg::combine_scores({}, mg::CombineBy::And), mg::Error);
}

}  // namespace
