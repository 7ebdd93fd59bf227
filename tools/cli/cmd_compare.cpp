// `mindgap compare <run-dir>... [--png out.png]`: one table and one plot of several runs, e.g.
// the self-verified arm beside the `none` and `oracle` control arms, over seeds.
#include <iostream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/metrics.h"
#include "core/plot.h"
#include "tools/cli/commands.h"
#include "trainers/round_report.h"

namespace mg::cli {

Action add_compare(CLI::App& app) {
  auto* sub = app.add_subcommand("compare", "one table and one plot of several runs (arms, seeds)");
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto png = std::make_shared<std::string>("compare.png");
  sub->add_option("run_dirs", *dirs, "run directories")->required();
  sub->add_option("--png", *png, "where to draw the plot");
  return [dirs, png]() -> int {
    std::vector<nlohmann::json> rows;
    std::vector<std::filesystem::path> paths;
    for (const auto& d : *dirs) {
      auto metrics = std::filesystem::path(d) / "metrics.jsonl";
      if (!fs::exists(metrics)) fail_input(d + ": no metrics.jsonl (not a run directory?)");
      for (auto& r : read_metrics(metrics))
        if (r.value("kind", "") == "round") {
          r["run"] = std::filesystem::path(d).filename().string();
          rows.push_back(r);
        }
      paths.push_back(d);
    }
    std::cout << format_round_table(rows);
    plot_gap(paths, *png);
    return 0;
  };
}

}  // namespace mg::cli
