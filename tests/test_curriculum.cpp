// The adaptive curriculum's rule (improve.advance): when the next round moves one step on,
// when it stays, and when the curriculum is complete.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/recipe/recipe.h"
#include "trainers/curriculum/curriculum.h"

namespace {

mg::Recipe adaptive_recipe(const std::string& advance) {
  return mg::parse_recipe(
      "task: {name: addition, digits: [1, 3]}\n"
      "model: {n_layer: 1, n_head: 2, d_model: 32, max_seq: 32}\n"
      "pretrain: {steps: 1}\n"
      "improve: {rounds: 30, prompts_per_round: 10, samples_per_prompt: 4, pass_k: 4,\n"
      "          curriculum: {digits: [4, 5, 6]}, advance: " + advance + ",\n"
      "          filter: {method: threshold, threshold: 0.5}}\n"
      "run: {dir: r}\n",
      "adaptive.yaml");
}

// A round record as the loop writes it: `kept` of prompts_per_round x samples_per_prompt.
nlohmann::json round_with_kept(int round, int kept) {
  return {{"kind", "round"}, {"round", round}, {"prompts", 10}, {"kept", kept}};
}

std::vector<int> steps_of(const std::vector<mg::CurriculumPosition>& positions) {
  std::vector<int> out;
  for (const auto& p : positions) out.push_back(p.step);
  return out;
}

}  // namespace

TEST(Curriculum, KeptShareIsKeptOverSamples) {
  EXPECT_DOUBLE_EQ(mg::kept_share(round_with_kept(1, 30), 4), 0.75);
  EXPECT_DOUBLE_EQ(mg::kept_share(round_with_kept(1, 0), 4), 0.0);
  nlohmann::json nothing = {{"prompts", 10}, {"kept", nullptr}};
  EXPECT_DOUBLE_EQ(mg::kept_share(nothing, 4), 0.0);
}

TEST(Curriculum, MovesOnWhenTheBarIsReached) {
  auto r = adaptive_recipe("{kept_share: 0.8}");
  ASSERT_TRUE(mg::adaptive_curriculum(r));
  // 40 samples a round; 32 kept is exactly the bar.
  auto pos = mg::curriculum_positions(r, {round_with_kept(1, 10), round_with_kept(2, 31), round_with_kept(3, 32),
                                          round_with_kept(4, 5), round_with_kept(5, 40)});
  EXPECT_EQ(steps_of(pos), (std::vector<int>{0, 0, 0, 1, 1, 2}));
  EXPECT_EQ(pos[2].rounds_at_step, 3);
  EXPECT_EQ(pos[5].rounds_at_step, 1);
  EXPECT_FALSE(pos.back().complete);
}

TEST(Curriculum, TheLastStepPassedCompletesIt) {
  auto r = adaptive_recipe("{kept_share: 0.5}");
  auto pos = mg::curriculum_positions(r, {round_with_kept(1, 40), round_with_kept(2, 40), round_with_kept(3, 39)});
  EXPECT_EQ(steps_of(pos), (std::vector<int>{0, 1, 2, 2}));
  EXPECT_FALSE(pos[2].complete);
  EXPECT_TRUE(pos[3].complete);
  // Once complete it stays complete, whatever a later record says.
  auto more = mg::curriculum_positions(r, {round_with_kept(1, 40), round_with_kept(2, 40), round_with_kept(3, 39),
                                           round_with_kept(4, 0)});
  EXPECT_TRUE(more.back().complete);
  EXPECT_EQ(more.back().step, 2);
}

TEST(Curriculum, MaxRoundsMovesOnButNeverCompletes) {
  auto r = adaptive_recipe("{kept_share: 0.9, max_rounds: 2}");
  std::vector<nlohmann::json> low;
  for (int i = 1; i <= 7; ++i) low.push_back(round_with_kept(i, 4));
  auto pos = mg::curriculum_positions(r, low);
  // Two rounds per step, then the last step holds: running out of rounds there is no pass.
  EXPECT_EQ(steps_of(pos), (std::vector<int>{0, 0, 1, 1, 2, 2, 2, 2}));
  EXPECT_EQ(pos.back().rounds_at_step, 4);
  EXPECT_FALSE(pos.back().complete);
}

TEST(Curriculum, WithoutACapAStepHoldsUntilItsBar) {
  auto r = adaptive_recipe("{kept_share: 0.9}");
  std::vector<nlohmann::json> low;
  for (int i = 1; i <= 12; ++i) low.push_back(round_with_kept(i, 35));
  auto pos = mg::curriculum_positions(r, low);
  EXPECT_EQ(pos.back().step, 0);
  EXPECT_EQ(pos.back().rounds_at_step, 13);
}

TEST(Curriculum, PerRoundCurriculumIsUnchanged) {
  auto r = adaptive_recipe("{kept_share: 0}");
  EXPECT_FALSE(mg::adaptive_curriculum(r));
  EXPECT_EQ(mg::difficulty_for_round(r, 2), (mg::Range{5, 5}));
  EXPECT_EQ(mg::curriculum_steps(r), (std::vector<mg::Range>{{4, 4}, {5, 5}, {6, 6}}));
}

TEST(Curriculum, RecipeChecks) {
  auto error_of = [](const std::vector<std::string>& overrides) {
    try {
      mg::parse_recipe("task: {name: addition}\nmodel: {n_layer: 1, n_head: 2, d_model: 32, max_seq: 32}\n"
                       "pretrain: {steps: 1}\nrun: {dir: r}\n",
                       "r.yaml", overrides);
    } catch (const mg::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string curriculum = "improve.curriculum={digits: [4, 5]}";
  EXPECT_NE(error_of({"improve.advance.kept_share=0.8", "improve.filter.method=threshold"}).find("needs improve.curriculum"),
            std::string::npos);
  // The default filter (quantile) keeps a fixed share: no signal to move on by.
  auto msg = error_of({"improve.advance.kept_share=0.8", curriculum});
  EXPECT_NE(msg.find("improve.advance.kept_share: needs filter.method threshold"), std::string::npos) << msg;
  msg = error_of({"improve.advance.kept_share=0.8", curriculum, "improve.filter.method=none"});
  EXPECT_NE(msg.find("'none' keeps a share"), std::string::npos) << msg;
  EXPECT_EQ(error_of({"improve.advance.kept_share=0.8", curriculum, "improve.filter.method=oracle"}), "");
  EXPECT_NE(error_of({"improve.advance.kept_share=1.5"}).find("improve.advance.kept_share"), std::string::npos);
  EXPECT_NE(error_of({"improve.advance.max_rounds=-1"}).find("improve.advance.max_rounds"), std::string::npos);
  // filter.fallback check needs a threshold (the bar for the check's answer) and a check that has
  // answers.
  msg = error_of({"improve.filter.fallback=check", "improve.verify.method=equivalent"});
  EXPECT_NE(msg.find("improve.filter.fallback: check needs filter.method threshold"), std::string::npos) << msg;
  msg = error_of({"improve.filter.fallback=check", "improve.filter.method=threshold"});
  EXPECT_NE(msg.find("improve.filter.fallback: check needs verify method equivalent"), std::string::npos) << msg;
  EXPECT_EQ(error_of({"improve.filter.fallback=check", "improve.filter.method=threshold",
                      "improve.verify.method=equivalent"}),
            "");
}
