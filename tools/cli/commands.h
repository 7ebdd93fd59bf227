#pragma once
// The mindgap subcommands. Each registers its options on the CLI11 app and returns the
// function to run when chosen (it returns the exit code; errors are thrown as mg::Error).
#include <CLI/CLI.hpp>

#include <functional>

namespace mg::cli {

using Action = std::function<int()>;

Action add_run(CLI::App& app);
Action add_pretrain(CLI::App& app);
Action add_improve(CLI::App& app);
Action add_eval(CLI::App& app);
Action add_sample(CLI::App& app);
Action add_gap(CLI::App& app);
Action add_export(CLI::App& app);
Action add_import(CLI::App& app);
Action add_schedule(CLI::App& app);
Action add_slices(CLI::App& app);
Action add_compare(CLI::App& app);
Action add_recipe(CLI::App& app);
Action add_sweep(CLI::App& app);
Action add_testtime(CLI::App& app);

}  // namespace mg::cli
