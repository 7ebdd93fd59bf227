// Generation and verification examples: layout, verdicts and per-segment weights in each
// format; the tokenizer corpus.
#include <gtest/gtest.h>

#include <set>

#include "core/errors.h"
#include "core/tasks/verification.h"

namespace {

std::unique_ptr<mg::Task> task(const std::string& name, int size = 4) {
  mg::TaskConfig c;
  c.name = name;
  c.size = size;
  return mg::make_task(c);
}

void expect_segments(const mg::Example& e, const std::vector<mg::Segment>& want) {
  ASSERT_EQ(e.size(), want.size());
  for (size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(e[i].text, want[i].text) << "segment " << i;
    EXPECT_FLOAT_EQ(e[i].weight, want[i].weight) << "segment " << i;
  }
}

const mg::Problem kSum{"62+85=", "741"};

TEST(Examples, Generation) {
  expect_segments(mg::generation_example(kSum), {{"62+85=", 0.f}, {"741<eoa>", 1.f}});
}

TEST(Examples, SpecialTokens) {
  EXPECT_EQ(mg::tok::score(0), "<s0>");
  EXPECT_EQ(mg::tok::score(9), "<s9>");
  EXPECT_THROW(mg::tok::score(10), mg::Error);
  EXPECT_EQ(mg::tok::all_specials().size(), 14u);
}

TEST(Examples, DirectVerification) {
  auto t = task("addition");
  expect_segments(mg::verification_example(*t, kSum, "741", "direct", 0.5f),
                  {{"62+85=741<verify>", 0.f}, {"<yes>", 0.5f}});
  expect_segments(mg::verification_example(*t, kSum, "751", "direct", 2.f),
                  {{"62+85=751<verify>", 0.f}, {"<no>", 2.f}});
  // A raw sample with its end marker is judged on the answer alone.
  expect_segments(mg::verification_example(*t, kSum, "741<eoa>", "direct", 1.f),
                  {{"62+85=741<verify>", 0.f}, {"<yes>", 1.f}});
  expect_segments(mg::verification_example(*t, kSum, "", "direct", 1.f),
                  {{"62+85=<verify>", 0.f}, {"<no>", 1.f}});
}

TEST(Examples, CotVerification) {
  auto t = task("addition");
  expect_segments(mg::verification_example(*t, kSum, "751", "cot", 0.7f),
                  {{"62+85=751<verify>", 0.f}, {"741", 1.f}, {"<no>", 0.7f}});
  expect_segments(mg::verification_example(*t, kSum, "741", "cot", 0.7f),
                  {{"62+85=741<verify>", 0.f}, {"741", 1.f}, {"<yes>", 0.7f}});
  EXPECT_EQ(mg::cot_derivation(*t, kSum), "741");
}

TEST(Examples, CotSudokuAcceptsAnotherSolution) {
  auto t = task("sudoku");
  const mg::Problem p{std::string(16, '.') + "=", "1234341221434321"};
  const std::string other = "2143341212344321";  // also a solved grid
  expect_segments(mg::verification_example(*t, p, other, "cot", 1.f),
                  {{p.prompt + other + "<verify>", 0.f}, {other, 1.f}, {"<yes>", 1.f}});
  const std::string broken = "1234341221434312";
  expect_segments(mg::verification_example(*t, p, broken, "cot", 1.f),
                  {{p.prompt + broken + "<verify>", 0.f}, {p.answer, 1.f}, {"<no>", 1.f}});
}

TEST(Examples, ScoreVerification) {
  auto t = task("addition");
  EXPECT_EQ(mg::candidate_score(*t, kSum, "741"), 9);
  EXPECT_EQ(mg::candidate_score(*t, kSum, "751"), 6);   // 2 of 3 digits: floor(9 * 2 / 3)
  EXPECT_EQ(mg::candidate_score(*t, kSum, "7410"), 6);  // 3 of 4 positions: floor(6.75)
  EXPECT_EQ(mg::candidate_score(*t, kSum, "000"), 0);
  EXPECT_EQ(mg::candidate_score(*t, kSum, ""), 0);
  EXPECT_EQ(mg::candidate_score(*t, {"999+999=", "8991"}, "8990"), 6);
  // Almost right is still at most 8: 9 means correct.
  const mg::Problem long_sum{"12345678+11111111=", "987654320"};
  ASSERT_TRUE(t->grade(long_sum.prompt, long_sum.answer));
  EXPECT_EQ(mg::candidate_score(*t, long_sum, "987654321"), 8);
  expect_segments(mg::verification_example(*t, kSum, "751", "score", 1.f),
                  {{"62+85=751<verify>", 0.f}, {"<s6>", 1.f}});
  expect_segments(mg::verification_example(*t, kSum, "741", "score", 3.f),
                  {{"62+85=741<verify>", 0.f}, {"<s9>", 3.f}});
}

TEST(Examples, UnknownFormatIsBadInput) {
  auto t = task("addition");
  try {
    mg::verification_example(*t, kSum, "741", "multiple_choice", 1.f);
    FAIL() << "no error";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
  }
}

TEST(Examples, PrefixMatchesTheExamples) {
  EXPECT_EQ(mg::verification_prefix("62+85=", "741"), "62+85=741<verify>");
  EXPECT_EQ(mg::verification_prefix("62+85=", "741<eoa>"), "62+85=741<verify>");
  auto t = task("multiplication");
  auto p = t->generate(1, 2, {2, 3});
  for (auto format : {"direct", "cot", "score"}) {
    auto e = mg::verification_example(*t, p, t->wrong_answer(p, 3), format, 1.f);
    EXPECT_EQ(e[0].text, mg::verification_prefix(p.prompt, t->wrong_answer(p, 3)));
  }
}

TEST(TokenizerCorpus, CoversEveryCharacterAndSpecialToken) {
  for (auto name : {"addition", "multiplication", "sudoku"}) {
    auto t = task(name);
    mg::Range d = std::string(name) == "sudoku" ? mg::Range{2, 6} : mg::Range{1, 1};
    auto corpus = mg::tokenizer_corpus(*t, d, 4, 50);
    ASSERT_EQ(corpus.size(), 50u);
    EXPECT_EQ(corpus, mg::tokenizer_corpus(*t, d, 4, 50));
    std::string all;
    for (const auto& s : corpus) all += s;
    for (char c : t->alphabet()) EXPECT_NE(all.find(c), std::string::npos) << c;
    for (const auto& s : mg::tok::all_specials()) EXPECT_NE(all.find(s), std::string::npos) << s;
    std::set<std::string> distinct(corpus.begin(), corpus.end());
    EXPECT_GT(distinct.size(), 25u) << name;
    // Both verdicts occur in the examples themselves (not only in the coverage line).
    int yes = 0, no = 0;
    for (size_t i = 1; i < corpus.size(); ++i) {
      yes += corpus[i].find("<yes>") != std::string::npos;
      no += corpus[i].find("<no>") != std::string::npos;
    }
    EXPECT_GT(yes, 3);
    EXPECT_GT(no, 3);
  }
}

}  // namespace
