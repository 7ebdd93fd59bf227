// Slices: each task's label for a prompt, and the per-slice counts of a round's samples and
// kept examples on hand-made rounds whose every count is known.
#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/tasks/task.h"
#include "trainers/reports/slices.h"

namespace {

std::unique_ptr<mg::Task> task(const std::string& name, bool reverse_operands = false, int pad_to = 0) {
  mg::TaskConfig c;
  c.name = name;
  c.reverse_operands = reverse_operands;
  c.pad_to = pad_to;
  return mg::make_task(c);
}

mg::ScoredSample sample(int p, int s, bool correct) { return {p, s, "", 0.0, correct}; }

}  // namespace

TEST(Slices, ArithmeticLabelsCountTheResultsDigits) {
  auto add = task("addition");
  EXPECT_EQ(add->slice("62+85="), "3-digit result");
  EXPECT_EQ(add->slice("12+13="), "2-digit result");
  EXPECT_EQ(add->slice("9999+1="), "5-digit result") << "the carry into a new digit";
  EXPECT_EQ(add->slice("abc"), "malformed");
  // Padded operands, least significant digit first: 62 + 85 written as 2600 + 5800.
  EXPECT_EQ(task("addition", true, 4)->slice("2600+5800="), "3-digit result");
  EXPECT_EQ(task("addition", true, 4)->slice("9999+1000="), "5-digit result");
  EXPECT_EQ(task("multiplication")->slice("12*34="), "3-digit result");
  EXPECT_EQ(task("sudoku")->slice("anything"), "all");
}

TEST(Slices, CountsPerSliceFromSamplesAndKept) {
  auto add = task("addition");
  // 62+85 and 99+1 have 3-digit sums, 12+13 a 2-digit one, 5000+6000 a 5-digit one.
  std::vector<std::string> prompts = {"62+85=", "12+13=", "99+1=", "5000+6000="};
  std::vector<mg::ScoredSample> samples = {sample(0, 0, true),  sample(0, 1, false), sample(1, 0, false),
                                           sample(1, 1, false), sample(2, 0, true),  sample(2, 1, true),
                                           sample(3, 0, true)};
  std::vector<mg::Kept> kept = {{0, 1, 1.0}, {1, 0, 1.0}, {2, 0, 1.0}};
  auto stats = mg::slice_stats(*add, prompts, {samples, {}}, kept);
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].slice, "2-digit result");
  EXPECT_EQ(stats[0].prompts, 1);
  EXPECT_EQ(stats[0].samples, 2);
  EXPECT_EQ(stats[0].right, 0);
  EXPECT_EQ(stats[0].kept, 1);
  EXPECT_EQ(stats[0].kept_right, 0);
  EXPECT_EQ(stats[0].prompts_with_right, 0);
  EXPECT_EQ(stats[1].slice, "3-digit result");
  EXPECT_EQ(stats[1].prompts, 2);
  EXPECT_EQ(stats[1].samples, 4);
  EXPECT_EQ(stats[1].right, 3);
  EXPECT_EQ(stats[1].prompts_with_right, 2);
  EXPECT_EQ(stats[1].kept, 2);
  EXPECT_EQ(stats[1].kept_right, 1);
  EXPECT_EQ(stats[1].prompts_with_right_kept, 1) << "62+85's right sample was dropped, 99+1's kept";
  EXPECT_EQ(stats[2].slice, "5-digit result");
  EXPECT_EQ(stats[2].kept, 0);
  EXPECT_EQ(stats[2].prompts_with_right, 1);

  auto j = mg::to_json(stats[1]);
  EXPECT_DOUBLE_EQ(j["J_f"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["prompts_right_share"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["prompts_right_kept_share"].get<double>(), 0.5);
  EXPECT_TRUE(mg::to_json(stats[2])["precision"].is_null()) << "nothing kept: no precision";
  auto table = mg::format_slice_table({j});
  EXPECT_NE(table.find("3-digit result"), std::string::npos) << table;
}

// filter.fallback check: an entry naming a check candidate (candidate 1 here, after the one sample) is
// counted apart from the kept samples; one that names no candidate is bad input.
TEST(Slices, FallbackAnswersAreCountedApart) {
  auto add = task("addition");
  std::vector<std::string> prompts = {"62+85=", "12+13=", "99+1="};
  std::vector<mg::ScoredSample> samples = {sample(0, 0, false), sample(1, 0, false), sample(2, 0, true)};
  std::vector<mg::ScoredSample> answers = {sample(0, 1, true), sample(1, 1, false), sample(2, 1, true)};
  for (auto& a : answers) a.from_check = true;
  std::vector<mg::Kept> kept = {{0, 1, 1.0}, {1, 1, 1.0}, {2, 0, 1.0}};
  auto stats = mg::slice_stats(*add, prompts, {samples, answers}, kept);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].slice, "2-digit result");
  EXPECT_EQ(stats[0].fallback, 1);
  EXPECT_EQ(stats[0].fallback_right, 0);
  EXPECT_EQ(stats[0].kept, 0);
  EXPECT_EQ(stats[1].fallback, 1);
  EXPECT_EQ(stats[1].fallback_right, 1);
  EXPECT_EQ(stats[1].kept, 1);
  EXPECT_EQ(stats[1].kept_right, 1);
  EXPECT_EQ(mg::to_json(stats[1])["fallback_right"], 1);
  EXPECT_NE(mg::format_slice_table({mg::to_json(stats[1])}).find("1/1"), std::string::npos);
  try {
    mg::slice_stats(*add, prompts, {samples, {}}, kept);
    ADD_FAILURE() << "a fallback entry without its check answer was accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("is not among the round's samples"), std::string::npos) << e.what();
  }
}

TEST(Slices, LongerLabelsComeAfterShorterOnes) {
  auto add = task("addition");
  std::vector<std::string> prompts = {"999999999+1=", "99999+1=", "99999999+1="};
  auto stats = mg::slice_stats(*add, prompts, {}, {});
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].slice, "6-digit result");
  EXPECT_EQ(stats[1].slice, "9-digit result");
  EXPECT_EQ(stats[2].slice, "10-digit result");
}

TEST(Slices, EntriesThatNameNoPromptOrSampleAreBadInput) {
  auto add = task("addition");
  std::vector<std::string> prompts = {"1+2="};
  try {
    mg::slice_stats(*add, prompts, {{sample(1, 0, true)}, {}}, {});
    ADD_FAILURE() << "a sample of prompt 1 in a round of 1 prompt was accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
  }
  try {
    mg::slice_stats(*add, prompts, {{sample(0, 0, true)}, {}}, {{0, 3, 1.0}});
    ADD_FAILURE() << "a kept entry with no sample was accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("(0, 3)"), std::string::npos) << e.what();
  }
}
