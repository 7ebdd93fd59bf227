// The per-round console table: every column present, control arms marked, undefined metrics
// (JSON null) shown as "-", greedy accuracy per difficulty.
#include <gtest/gtest.h>

#include "trainers/reports/round_report.h"

TEST(RoundReport, ShowsArmsGapsAndNulls) {
  nlohmann::json self = {{"run", "seed1-self"}, {"round", 1}, {"arm", "mc-cot/quantile"}, {"J_f", 0.5},
                         {"J_filtered", 0.75}, {"gap", 0.25}, {"relative_gap", 0.5}, {"pass1", 0.5}, {"passk", 0.9},
                         {"auroc", 0.8}, {"kept", 12}, {"greedy", {{"1-2", 0.91}, {"3", 0.4}}}};
  nlohmann::json none = {{"run", "seed1-none"}, {"round", 1}, {"arm", "none"}, {"control_arm", true},
                         {"J_f", 0.5}, {"J_filtered", nullptr}, {"gap", nullptr}, {"relative_gap", nullptr},
                         {"kept", 0}};
  std::string table = mg::format_round_table({self, none});
  EXPECT_NE(table.find("J(f[w])"), std::string::npos);
  EXPECT_NE(table.find("mc-cot/quantile"), std::string::npos);
  EXPECT_NE(table.find("+0.250"), std::string::npos);
  EXPECT_NE(table.find("+0.500"), std::string::npos);
  EXPECT_NE(table.find("none (control)"), std::string::npos);
  EXPECT_NE(table.find("1-2:0.91"), std::string::npos);
  EXPECT_NE(table.find("3:0.40"), std::string::npos);
  // The none row has "-" where the metric is undefined, and the table has header + 2 rows.
  auto none_row = table.substr(table.find("seed1-none"));
  EXPECT_NE(none_row.find(" - "), std::string::npos) << none_row;
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4);
  EXPECT_EQ(table.find("fallback"), std::string::npos) << "no filter.fallback, no fallback count";
  // filter.fallback check's count and precision follow the greedy accuracies; no precision when none.
  self["fallback_answers"] = 40;
  self["fallback_precision"] = 0.975;
  none["fallback_answers"] = 0;
  none["fallback_precision"] = nullptr;
  table = mg::format_round_table({self, none});
  EXPECT_NE(table.find("3:0.40  +40 fallback (0.975 right)"), std::string::npos) << table;
  EXPECT_NE(table.find("+0 fallback (- right)"), std::string::npos) << table;
}

TEST(RoundReport, PassAtFollowsInOrderOfK) {
  nlohmann::json r = {{"run", "s1"}, {"round", 2}, {"arm", "consistency/threshold"}, {"J_f", 0.9}, {"kept", 3},
                      {"greedy", {{"1-2", 0.95}}}, {"pass_at", {{"16", 0.99}, {"1", 0.9}, {"4", 0.97}}}};
  const std::string table = mg::format_round_table({r});
  EXPECT_NE(table.find("1-2:0.95  pass@1:0.90 pass@4:0.97 pass@16:0.99"), std::string::npos) << table;
  r.erase("pass_at");
  EXPECT_EQ(mg::format_round_table({r}).find("pass@"), std::string::npos);
}
