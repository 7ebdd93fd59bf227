// The recipe key reference: generated from the schema, complete, and the same as the file
// committed in docs/ (so that a key added or changed without regenerating it fails here).
#include "test_paths.h"
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "core/fs.h"
#include "core/recipe/recipe.h"
#include "core/recipe/recipe_reference.h"
#include "core/recipe/recipe_schema.h"
#include "tests/cli_runner.h"

namespace {

const char* kRegenerate = "regenerate it: build/mindgap recipe --keys > docs/recipes.md";

// The first line where two texts differ, for a message a person can act on.
std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "(the texts differ only in their last newline)";
    if (ga != gb || la != lb)
      return "line " + std::to_string(line) + ":\n  file:   " + (ga ? la : "(ends)") + "\n  schema: " + (gb ? lb : "(ends)");
  }
}

}  // namespace

TEST(RecipeReference, DocsMatchTheSchema) {
  const std::string path = mg::test::source_dir() + "/docs/recipes.md";
  ASSERT_TRUE(std::filesystem::exists(path)) << "docs/recipes.md is missing: " << kRegenerate;
  const std::string file = mg::fs::read_file(path), generated = mg::recipe_reference_markdown();
  EXPECT_TRUE(file == generated) << "docs/recipes.md differs from the recipe schema; " << kRegenerate << "\n"
                                 << first_difference(file, generated);
}

TEST(RecipeReference, ListsExactlyTheKeysARecipeHas) {
  std::set<std::string> documented;
  for (const auto& k : mg::recipe_key_docs()) EXPECT_TRUE(documented.insert(k.key).second) << k.key << " twice";
  std::set<std::string> flat;
  for (const auto& [key, value] : mg::flatten_recipe(mg::Recipe{})) flat.insert(key);
  EXPECT_EQ(documented, flat);
  EXPECT_GT(documented.size(), 60u);
}

TEST(RecipeReference, EveryKeyHasAMeaningAndAllowedValues) {
  for (const auto& k : mg::recipe_key_docs()) {
    EXPECT_FALSE(k.meaning.empty()) << k.key << ": give it a one-line meaning at its declaration in core/recipe/recipe_schema.h";
    EXPECT_FALSE(k.allowed.empty()) << k.key << ": its check needs the allowed values in words (schema::custom)";
    EXPECT_FALSE(k.type.empty()) << k.key;
  }
}

TEST(RecipeReference, RowsCarryTheSchemasFacts) {
  std::map<std::string, mg::RecipeKeyDoc> by_key;
  for (const auto& k : mg::recipe_key_docs()) by_key[k.key] = k;
  EXPECT_TRUE(by_key.at("task.name").required);
  EXPECT_EQ(by_key.at("task.name").allowed, "`addition`, `multiplication`, `sudoku`");
  EXPECT_FALSE(by_key.at("task.digits").required);
  EXPECT_EQ(by_key.at("task.digits").default_value, "[1, 3]");
  EXPECT_EQ(by_key.at("pretrain.lr").allowed, "(0, 1]");
  EXPECT_EQ(by_key.at("pretrain.lr").default_value, "0.001");
  EXPECT_EQ(by_key.at("improve.distill.lr").default_value, "0.0003");
  EXPECT_EQ(by_key.at("improve.rounds").allowed, "≥ 0");
  EXPECT_EQ(by_key.at("improve.filter.threshold").allowed, "[0, 1]");
  EXPECT_EQ(by_key.at("improve.filter.dedup").type, "bool");
  EXPECT_EQ(by_key.at("improve.filter.dedup").allowed, "`true`, `false`");
  // An option read into an enum reads as a string of a few words, its default the word.
  EXPECT_EQ(by_key.at("improve.filter.fallback").type, "string");
  EXPECT_EQ(by_key.at("improve.filter.fallback").allowed, "`none`, `check`");
  EXPECT_EQ(by_key.at("improve.filter.fallback").default_value, "none");
  EXPECT_EQ(by_key.at("improve.verify.ensemble").default_value, "[mc, consistency]");
  EXPECT_NE(by_key.at("improve.verify.split").meaning.find("addition"), std::string::npos)
      << "a task-specific key says which task";
}

// The words of a check and what it accepts come from one declaration; they must agree.
TEST(RecipeReference, CheckWordsAgreeWithTheChecks) {
  auto b = mg::schema::between(0.0, 1.0);
  EXPECT_EQ(b.allowed, "[0, 1]");
  EXPECT_EQ(b(0.0), "");
  EXPECT_EQ(b(1.0), "");
  EXPECT_NE(b(1.5), "");
  auto oc = mg::schema::open_closed(0.0, 1.0);
  EXPECT_NE(oc(0.0), "");
  EXPECT_EQ(oc(1.0), "");
  auto al = mg::schema::at_least(3);
  EXPECT_EQ(al.allowed, "≥ 3");
  EXPECT_NE(al(2), "");
  auto each = mg::schema::each_of({"mc", "score"});
  EXPECT_EQ(each(std::vector<std::string>{"mc", "score"}), "");
  EXPECT_EQ(each(std::vector<std::string>{"mc", "vote"}), "'vote' is not one of: mc, score");
  EXPECT_TRUE(mg::schema::required(mg::schema::at_least(1)).required);
  EXPECT_FALSE(mg::schema::at_least(1).required);
}

TEST(RecipeReference, CommandPrintsTheReference) {
  auto scratch = mg::testing::scratch_dir("recipe_keys");
  auto res = mg::testing::run_mindgap("recipe --keys", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::fs::read_file(scratch / "stdout.txt"), mg::recipe_reference_markdown());
  auto bare = mg::testing::run_mindgap("recipe", scratch);
  EXPECT_EQ(bare.code, 2);
  EXPECT_NE(bare.err.find("--keys"), std::string::npos) << bare.err;
  std::filesystem::remove_all(scratch);
}
