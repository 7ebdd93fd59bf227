#pragma once
// gap.png: accuracy (greedy, J_f, J_filtered) and the GV-gap per round, drawn by
// tools/plot_gap.py with matplotlib from the "round" records of each run's metrics.jsonl.
#include <filesystem>
#include <string>
#include <vector>

namespace mg {

// One line per run and arm. Plotting is a convenience: when python, matplotlib or the records
// are missing, or the script fails, this logs a warning (with the script's message) and
// returns; it never throws for that.
void plot_gap(const std::vector<std::filesystem::path>& run_dirs, const std::filesystem::path& png);

// Runs `script` (python) with "--out png" and `args`; true when it drew the plot. On any
// failure a warning says which plot (`what`) was not drawn and why; it never throws for that.
bool draw_plot(const std::string& script, std::vector<std::string> args, const std::filesystem::path& png,
               const std::string& what);
// Another plot script beside plot_script() (tools/<name>).
std::string sibling_plot_script(const std::string& name);

// The python that runs the script: $MINDGAP_PYTHON, else the venv python the build was
// configured with, else python3 from PATH.
std::string plot_python();
// The script: $MINDGAP_PLOT_SCRIPT, else tools/plot_gap.py of the source tree built from.
std::string plot_script();

}  // namespace mg
