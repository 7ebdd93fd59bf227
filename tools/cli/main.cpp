// The mindgap command line: one binary, one subcommand per job. Errors are caught here,
// once: one "error: ..." line on stderr, exit 2 for bad input, 1 for an internal failure.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/runtime.h"
#include "core/sanitizer_defaults.h"
#include "tools/cli/commands.h"
#include "tools/parse_args.h"

int main(int argc, char** argv) {
  mg::ensure_passive_openmp(argv);
  mg::tune_allocator();
  CLI::App app{"mindgap: iterative self-distillation with the generation-verification gap measured every round"};
  app.set_version_flag("--version", std::string("mindgap ") + MINDGAP_VERSION);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, mg::cli::Action>> commands;
  auto add = [&](mg::cli::Action (*adder)(CLI::App&)) {
    size_t before = app.get_subcommands({}).size();
    mg::cli::Action action = adder(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(action));
  };
  add(mg::cli::add_run);
  add(mg::cli::add_pretrain);
  add(mg::cli::add_improve);
  add(mg::cli::add_eval);
  add(mg::cli::add_sample);
  add(mg::cli::add_gap);
  add(mg::cli::add_export);
  add(mg::cli::add_import);
  add(mg::cli::add_schedule);
  add(mg::cli::add_slices);
  add(mg::cli::add_compare);
  add(mg::cli::add_recipe);
  add(mg::cli::add_sweep);
  add(mg::cli::add_testtime);
  // CLI11 reads an unknown first word as a stray argument and says "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto& [sub, action] : commands) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
      known = known || sub->get_name() == argv[1];
    }
    if (!known) {
      std::cerr << "error: unknown command '" << argv[1] << "' (one of: " << names << ")" << std::endl;
      return 2;
    }
  }
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  try {
    for (auto& [sub, action] : commands)
      if (sub->parsed()) return action();
    return 2;
  } catch (const mg::Error& e) {
    std::cerr << (e.stopped() ? "stopped: " : "error: ") << e.what() << std::endl;
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::cerr << "error: internal (torch): " << e.what_without_backtrace() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: internal: " << e.what() << std::endl;
    return 1;
  }
}
