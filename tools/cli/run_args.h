#pragma once
// The arguments of the commands that read one round of a run (eval, gap, sample, export,
// testtime): the run directory, --round, and key=value overrides; and the round they name,
// loaded.
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/gpt.h"
#include "trainers/inspect.h"

namespace mg::cli {

struct RunArgs {
  std::string dir;
  int round = -1;  // -1: the newest good round
  std::vector<std::string> overrides;
};

std::shared_ptr<RunArgs> add_run_args(CLI::App* sub);

// Opens the run and loads the chosen round's weights (a.round set to the round loaded).
std::pair<RunContext, Gpt> open_round(RunArgs& a);

}  // namespace mg::cli
