#pragma once
// A console table of the rounds of one or several arms, so that a study's arms (the
// verifier-filtered ones and the `none` / `oracle` controls) read side by side.
#include <limits>
#include <string>
#include <vector>

#include "trainers/gap_metrics.h"

namespace mg {

struct RoundRecord {
  int round = 0;
  std::string arm;  // the filter method, or a study's label for the arm
  double greedy = std::numeric_limits<double>::quiet_NaN();  // held-out greedy accuracy; NaN: not measured
  GapMetrics metrics{};
};

// One line per record, in the given order, under a header:
//   round  arm  J_f  J_filtered  gap  rel gap  greedy  pass@1  pass@<k>  AUROC  kept
// Fractions print with 3 decimals, gaps with a sign, NaN as "-". Arms that are control arms
// (is_control_arm) are marked with '*' and a footnote says what that means.
std::string format_round_table(const std::vector<RoundRecord>& records, int k);

}  // namespace mg
