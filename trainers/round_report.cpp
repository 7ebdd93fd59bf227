#include "trainers/round_report.h"

#include <cstdio>

namespace mg {

namespace {
std::string fixed(double v, const char* fmt = "%.3f") {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}
}  // namespace

std::string format_round_table(const std::vector<nlohmann::json>& records) {
  std::string out = "\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-14s %5s %-24s %6s %8s %7s %7s %6s %6s %6s %5s  %s\n", "run", "round", "arm", "J(f)",
                "J(f[w])", "gap", "rel", "pass1", "passk", "AUROC", "kept", "greedy held-out (difficulty: acc)");
  out += line;
  for (const auto& r : records) {
    std::string greedy;
    if (r.contains("greedy") && r["greedy"].is_object())
      for (const auto& [k, v] : r["greedy"].items()) greedy += k + ":" + fixed(v.get<double>(), "%.2f") + " ";
    std::string arm = r.value("arm", "?");
    if (r.value("control_arm", false)) arm += " (control)";
    std::snprintf(line, sizeof line, "%-14s %5d %-24s %6s %8s %+7.3f %+7.3f %6s %6s %6s %5d  %s\n",
                  r.value("run", std::string("")).c_str(), r.value("round", 0), arm.c_str(),
                  fixed(r.value("J_f", 0.0)).c_str(), fixed(r.value("J_filtered", 0.0)).c_str(), r.value("gap", 0.0),
                  r.value("relative_gap", 0.0), fixed(r.value("pass1", 0.0)).c_str(),
                  fixed(r.value("passk", 0.0)).c_str(), fixed(r.value("auroc", 0.5)).c_str(), r.value("kept", 0),
                  greedy.c_str());
    out += line;
  }
  return out;
}

}  // namespace mg
