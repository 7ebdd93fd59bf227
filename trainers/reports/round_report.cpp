#include "trainers/reports/round_report.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

namespace mg {

std::string arm_label(const Recipe& recipe) {
  const auto& f = recipe.improve.filter;
  if (is_control_arm(filter_method(f.method))) return f.method;
  const auto& v = recipe.improve.verify;
  std::string label = v.method;
  if (const VerifyMethod m = verify_method(v.method); m == VerifyMethod::Mc || m == VerifyMethod::Score)
    label += "-" + v.format;
  return label + "/" + f.method;
}

std::string table_cell(const nlohmann::json& r, const char* key, const char* fmt) {
  if (!r.contains(key) || !r[key].is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, r[key].get<double>());
  return buf;
}

std::string format_round_table(const std::vector<nlohmann::json>& records) {
  std::string out = "\n";
  char line[512];
  // AUROC over all samples, and within each prompt (what a per-prompt filter ranks by).
  std::snprintf(line, sizeof line, "%-16s %5s %-26s %6s %8s %7s %7s %6s %6s %6s %6s %5s  %s\n", "run", "round", "arm",
                "J(f)", "J(f[w])", "gap", "rel", "pass1", "passk", "AUROC", "wAUROC", "kept",
                "greedy held-out (difficulty: acc)");
  out += line;
  for (const auto& r : records) {
    std::string greedy;
    if (r.contains("greedy") && r["greedy"].is_object())
      for (const auto& [k, v] : r["greedy"].items())
        greedy += k + ":" + table_cell(r["greedy"], k.c_str(), "%.2f") + " ";
    // improve.pass_at: the held-out pass@k of the round's model, by k.
    if (r.contains("pass_at") && r["pass_at"].is_object()) {
      std::vector<std::pair<int, std::string>> ks;
      for (const auto& [k, v] : r["pass_at"].items()) ks.emplace_back(std::atoi(k.c_str()), k);
      std::sort(ks.begin(), ks.end());
      for (const auto& [n, k] : ks) greedy += " pass@" + k + ":" + table_cell(r["pass_at"], k.c_str(), "%.2f");
    }
    // filter.fallback check: the check's answers trained on beside the kept samples (not in `kept`).
    if (r.contains("fallback_answers") && r["fallback_answers"].is_number())
      greedy += " +" + std::to_string(r["fallback_answers"].get<int>()) + " fallback (" +
                table_cell(r, "fallback_precision", "%.3f") + " right)";
    std::string arm = r.value("arm", "?");
    if (r.value("control_arm", false)) arm += " (control)";
    std::snprintf(line, sizeof line, "%-16s %5d %-26s %6s %8s %7s %7s %6s %6s %6s %6s %5d  %s\n",
                  r.value("run", std::string("")).c_str(), r.value("round", 0), arm.c_str(),
                  table_cell(r, "J_f").c_str(), table_cell(r, "J_filtered").c_str(),
                  table_cell(r, "gap", "%+.3f").c_str(), table_cell(r, "relative_gap", "%+.3f").c_str(),
                  table_cell(r, "pass1").c_str(), table_cell(r, "passk").c_str(), table_cell(r, "auroc").c_str(),
                  table_cell(r, "auroc_within").c_str(), r.value("kept", 0), greedy.c_str());
    out += line;
  }
  return out;
}

}  // namespace mg
