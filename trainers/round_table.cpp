#include "trainers/round_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "trainers/filter.h"

namespace mg {
namespace {

std::string fixed3(double v, bool sign = false) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, sign ? "%+.3f" : "%.3f", v);
  std::string text = buf;
  return text == "-0.000" ? "0.000" : text == "+-0.000" ? "+0.000" : text;
}

}  // namespace

std::string format_round_table(const std::vector<RoundRecord>& records, int k) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"round", "arm", "J_f", "J_filtered", "gap", "rel gap", "greedy", "pass@1",
                  "pass@" + std::to_string(k), "AUROC", "kept"});
  bool any_control = false;
  for (const RoundRecord& r : records) {
    const GapMetrics& m = r.metrics;
    const bool control = is_control_arm(r.arm);
    any_control = any_control || control;
    rows.push_back({std::to_string(r.round), r.arm + (control ? "*" : ""), fixed3(m.J_f),
                    fixed3(m.J_filtered), fixed3(m.gap, true), fixed3(m.relative_gap, true),
                    fixed3(r.greedy), fixed3(m.pass1), fixed3(m.passk), fixed3(m.auroc),
                    std::to_string(m.kept)});
  }
  std::vector<size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());

  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string pad(width[c] - row[c].size(), ' ');
      if (c > 0) line += "  ";
      line += c == 1 ? row[c] + pad : pad + row[c];  // the arm name left-aligned, numbers right
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (any_control)
    out += "* control arm: trains without trusting the verifier "
           "(none: every sample; oracle: the grader-correct ones)\n";
  return out;
}

}  // namespace mg
