// `mindgap compare <run-dir>... [--png out.png]`: one table and one plot of several runs, e.g.
// the self-verified arm beside the `none` and `oracle` control arms, over seeds; then the
// held-out greedy accuracy before the first round and after the last, per run and per arm.
#include <iostream>
#include <map>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/report/metrics.h"
#include "core/report/plot.h"
#include "tools/cli/commands.h"
#include "trainers/inspect.h"

namespace mg::cli {
namespace {

// Mean held-out greedy accuracy over the difficulties of a record (an object or a number).
double mean_greedy(const nlohmann::json& g) {
  if (g.is_number()) return g.get<double>();
  double sum = 0;
  int n = 0;
  if (g.is_object())
    for (const auto& [k, v] : g.items())
      if (v.is_number()) sum += v.get<double>(), ++n;
  return n ? sum / n : 0.0;
}

}  // namespace

Action add_compare(CLI::App& app) {
  auto* sub = app.add_subcommand("compare", "one table and one plot of several runs (arms, seeds)");
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto png = std::make_shared<std::string>("compare.png");
  sub->add_option("run_dirs", *dirs, "run directories")->required();
  sub->add_option("--png", *png, "where to draw the plot");
  return [dirs, png]() -> int {
    std::vector<nlohmann::json> rows;
    std::vector<std::filesystem::path> paths;
    std::map<std::string, std::vector<double>> final_by_arm;
    std::string summary = "\nheld-out greedy (mean over difficulties): before round 1 -> after the last round\n";
    for (const auto& d : *dirs) {
      std::filesystem::path dir = d;
      auto metrics = dir / "metrics.jsonl";
      if (!fs::exists(metrics)) fail_input(d + ": no metrics.jsonl (not a run directory?)");
      // A run killed between its metrics line and its commit logs a round twice: keep the last.
      std::map<int, nlohmann::json> by_round;
      for (auto& r : read_metrics(metrics))
        if (r.value("kind", "") == "round") by_round[r.value("round", 0)] = r;
      std::string label = dir.filename().string();
      double before = -1;
      if (fs::exists(dir / "round-0000" / "state.json"))
        before = load_state(dir / "round-0000" / "state.json").value("greedy", -1.0);
      for (auto& [round, r] : by_round) {
        r["run"] = label;
        rows.push_back(r);
      }
      if (!by_round.empty()) {
        const auto& last = by_round.rbegin()->second;
        double after = mean_greedy(last["greedy"]);
        final_by_arm[last.value("arm", "?")].push_back(after);
        char line[256];
        std::snprintf(line, sizeof line, "  %-28s %-26s %6.3f -> %6.3f  (round %d)\n", label.c_str(),
                      last.value("arm", "?").c_str(), before, after, by_round.rbegin()->first);
        summary += line;
      }
      paths.push_back(dir);
    }
    summary += "mean over runs, per arm:\n";
    for (const auto& [arm, v] : final_by_arm) {
      double s = 0;
      for (double x : v) s += x;
      char line[256];
      std::snprintf(line, sizeof line, "  %-26s %6.3f  (%zu run%s)\n", arm.c_str(), s / v.size(), v.size(),
                    v.size() == 1 ? "" : "s");
      summary += line;
    }
    std::cout << format_round_table(rows) << summary;
    plot_gap(paths, *png);
    return 0;
  };
}

}  // namespace mg::cli
