// Recipe parsing in-process: defaults, overrides, the written-out form, resume comparison.
#include "test_paths.h"
#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/fs.h"
#include "core/recipe/recipe.h"
#include "tests/recipe_error.h"

namespace {

const char* kMinimal = R"(
task: {name: addition}
model: {n_layer: 2, n_head: 2, d_model: 32, max_seq: 32}
pretrain: {steps: 10}
run: {dir: runs/x}
)";

using mg::testing::error_of;

}  // namespace

TEST(Recipe, MinimalGetsDefaults) {
  auto r = mg::parse_recipe(kMinimal, "r.yaml");
  EXPECT_EQ(r.task.name, "addition");
  EXPECT_EQ(r.model.d_model, 32);
  EXPECT_EQ(r.improve.verify.method, "mc");
  EXPECT_EQ(r.run.dir, "runs/x");
  EXPECT_EQ(r.task.digits, (mg::Range{1, 3}));
}

TEST(Recipe, ShippedRecipesAreValid) {
  for (const auto& entry : std::filesystem::directory_iterator(mg::test::source_dir() + "/recipes")) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(mg::load_recipe(entry.path().string())) << entry.path();
  }
}

TEST(Recipe, OverridesApplyWithTypes) {
  auto r = mg::parse_recipe(kMinimal, "r.yaml",
                            {"improve.rounds=5", "task.digits=[2, 4]", "improve.sampling.temperature=0.7",
                             "improve.curriculum={digits: [4, 5]}", "run.dir=elsewhere"});
  EXPECT_EQ(r.improve.rounds, 5);
  EXPECT_EQ(r.task.digits, (mg::Range{2, 4}));
  EXPECT_DOUBLE_EQ(r.improve.sampling.temperature, 0.7);
  EXPECT_EQ(r.run.dir, "elsewhere");
  EXPECT_EQ(mg::difficulty_for_round(r, 0), (mg::Range{2, 4}));
  EXPECT_EQ(mg::difficulty_for_round(r, 1), (mg::Range{4, 4}));
  EXPECT_EQ(mg::difficulty_for_round(r, 2), (mg::Range{5, 5}));
  EXPECT_EQ(mg::difficulty_for_round(r, 3), (mg::Range{5, 5}));  // the last value holds
}

TEST(Recipe, OverrideErrorsNameTheCommandLine) {
  auto msg = error_of(kMinimal, {"improve.rounds=many"});
  EXPECT_NE(msg.find("command line: improve.rounds: expected an integer"), std::string::npos) << msg;
  msg = error_of(kMinimal, {"improve.rounds"});
  EXPECT_NE(msg.find("expected key=value"), std::string::npos) << msg;
  msg = error_of(kMinimal, {"task.name.x=1"});
  EXPECT_NE(msg.find("is not a section"), std::string::npos) << msg;
}

TEST(Recipe, DistributedKeys) {
  auto r = mg::parse_recipe(kMinimal, "r.yaml");
  EXPECT_DOUBLE_EQ(r.run.dist_timeout_s, 600);
  EXPECT_TRUE(r.run.overlap_grad_sync);
  r = mg::parse_recipe(kMinimal, "r.yaml", {"run.dist_timeout_s=2.5", "run.overlap_grad_sync=false"});
  EXPECT_DOUBLE_EQ(r.run.dist_timeout_s, 2.5);
  EXPECT_FALSE(r.run.overlap_grad_sync);
  auto msg = error_of(kMinimal, {"run.dist_timeout_s=0"});
  EXPECT_NE(msg.find("run.dist_timeout_s: must be in [1"), std::string::npos) << msg;
}

TEST(Recipe, UnknownKeySuggestsNearest) {
  auto msg = error_of(std::string(kMinimal) + "improve: {samples_per_promt: 4}\n");
  EXPECT_NE(msg.find("improve.samples_per_promt: unknown key (did you mean 'improve.samples_per_prompt'?)"),
            std::string::npos)
      << msg;
}

TEST(Recipe, YamlRoundTripIsExact) {
  auto r = mg::parse_recipe(kMinimal, "r.yaml",
                            {"pretrain.lr=0.000123456789", "improve.curriculum={digits: [4, 5, 6]}",
                             "improve.verify.ensemble=[mc, score]"});
  auto again = mg::parse_recipe(mg::recipe_to_yaml(r), "resolved.yaml");
  EXPECT_EQ(mg::flatten_recipe(r), mg::flatten_recipe(again));
  EXPECT_DOUBLE_EQ(again.pretrain.lr, 0.000123456789);
}

TEST(Recipe, ResultChangingDifferences) {
  auto a = mg::parse_recipe(kMinimal, "a.yaml");
  auto b = mg::parse_recipe(kMinimal, "b.yaml",
                            {"improve.rounds=9", "run.threads=1", "run.dir=y", "run.dist_timeout_s=30",
                             "run.overlap_grad_sync=false"});
  EXPECT_TRUE(mg::result_changing_differences(a, b).empty());
  auto c = mg::parse_recipe(kMinimal, "c.yaml", {"pretrain.lr=0.5", "run.seed=7"});
  auto diff = mg::result_changing_differences(a, c);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0], "pretrain.lr");
  EXPECT_EQ(diff[1], "run.seed");
}

// The options that are one of a few words are read into their enums by the parser, once; a
// stage compares enums. A word outside the list is refused naming the key and the words.
TEST(RecipeOptions, WordsBecomeEnumsAndOthersAreRefused) {
  auto r = mg::parse_recipe(kMinimal, "r.yaml",
                            {"improve.filter.scope=global", "improve.verify.combine=and", "improve.distill.init=base"});
  EXPECT_EQ(r.improve.filter.scope, mg::FilterScope::Global);
  EXPECT_EQ(r.improve.verify.combine, mg::CombineBy::And);
  EXPECT_EQ(r.improve.distill.init, mg::DistillInit::Base);
  EXPECT_EQ(r.improve.verify.offset, mg::OffsetBy::Exact);
  EXPECT_EQ(r.improve.filter.fallback, mg::FilterFallback::None);
  // recipe.yaml holds the words, and reads back to the same enums.
  const std::string yaml = mg::recipe_to_yaml(r);
  EXPECT_NE(yaml.find("scope: \"global\""), std::string::npos) << yaml;
  EXPECT_EQ(mg::flatten_recipe(mg::parse_recipe(yaml, "resolved.yaml")), mg::flatten_recipe(r));
  auto msg = error_of(kMinimal, {"improve.verify.combine=or"});
  EXPECT_NE(msg.find("command line: improve.verify.combine: 'or' is not one of: mean, and"), std::string::npos) << msg;
  msg = error_of(kMinimal, {"improve.filter.scope=everywhere"});
  EXPECT_NE(msg.find("improve.filter.scope: 'everywhere' is not one of: per_prompt, global"), std::string::npos) << msg;
}

// A recipe.yaml written before filter.fallback replaced filter.adopt (every run directory of an
// earlier version holds the key) reads as the key that replaced it, so such a run resumes.
TEST(RecipeOptions, TheReplacedAdoptKeyReadsAsFallback) {
  const std::string equivalent = std::string(kMinimal) +
                                 "improve: {verify: {method: equivalent}, filter: {method: threshold, adopt: true}}\n";
  EXPECT_EQ(mg::parse_recipe(equivalent, "old.yaml").improve.filter.fallback, mg::FilterFallback::Check);
  EXPECT_EQ(mg::parse_recipe(kMinimal, "r.yaml", {"improve.filter.adopt=false"}).improve.filter.fallback,
            mg::FilterFallback::None);
  auto msg = error_of(equivalent, {"improve.filter.fallback=none"});
  EXPECT_NE(msg.find("improve.filter.adopt: replaced by improve.filter.fallback"), std::string::npos) << msg;
  msg = error_of(kMinimal, {"improve.filter.adopt=maybe"});
  EXPECT_NE(msg.find("command line: improve.filter.adopt: expected true or false"), std::string::npos) << msg;
}
