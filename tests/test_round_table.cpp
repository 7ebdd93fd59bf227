// The round table: every column present, numbers formatted, control arms marked.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "trainers/round_table.h"

namespace {

mg::GapMetrics metrics(double j_f, double j_filtered, int kept) {
  mg::GapMetrics m{};
  m.J_f = j_f;
  m.J_filtered = j_filtered;
  m.gap = j_filtered - j_f;
  m.relative_gap = m.gap / (1 - j_f);
  m.pass1 = j_f;
  m.passk = 0.9;
  m.precision = m.recall = 0.5;
  m.auroc = 0.58;
  m.kept = kept;
  m.prompts = 256;
  return m;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RoundTable, HeaderRowsAndFormatting) {
  std::vector<mg::RoundRecord> records;
  records.push_back({1, "quantile", 0.92, metrics(0.75, 0.843, 1024)});
  records.push_back({1, "none", 0.84, metrics(0.75, 0.75, 2048)});
  records.push_back({2, "quantile", std::nan(""), metrics(0.9, 0.886, 1024)});
  const std::string table = mg::format_round_table(records, 8);
  const auto lines = lines_of(table);
  ASSERT_EQ(lines.size(), 5u) << table;  // header, 3 rows, footnote
  for (const char* column : {"round", "arm", "J_f", "J_filtered", "gap", "rel gap", "greedy", "pass@1",
                             "pass@8", "AUROC", "kept"})
    EXPECT_NE(lines[0].find(column), std::string::npos) << column;
  EXPECT_NE(lines[1].find("+0.093"), std::string::npos) << lines[1];  // gap with its sign
  EXPECT_NE(lines[1].find("+0.372"), std::string::npos) << lines[1];  // 0.093 / 0.25
  EXPECT_NE(lines[1].find("0.920"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("1024"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("none*"), std::string::npos) << lines[2];
  EXPECT_EQ(lines[1].find('*'), std::string::npos) << lines[1];
  EXPECT_NE(lines[3].find("-0.014"), std::string::npos) << lines[3];
  EXPECT_NE(lines[3].find(" - "), std::string::npos) << lines[3];  // greedy not measured
  EXPECT_EQ(lines[4].rfind("* control arm", 0), 0u) << lines[4];
  // Columns line up: every row is as long as the header or shorter only by trailing blanks.
  EXPECT_EQ(lines[1].size(), lines[0].size());
  EXPECT_EQ(lines[1].find("0.750"), lines[2].find("0.750"));
}

TEST(RoundTable, NoFootnoteWithoutControlArmsAndEmptyInput) {
  const std::string table = mg::format_round_table({{1, "best_of_n", 0.5, metrics(0.5, 0.6, 10)}}, 4);
  EXPECT_EQ(table.find("control"), std::string::npos);
  EXPECT_NE(table.find("pass@4"), std::string::npos);
  EXPECT_EQ(lines_of(mg::format_round_table({}, 8)).size(), 1u);
}

}  // namespace
