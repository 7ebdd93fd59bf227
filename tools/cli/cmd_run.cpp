// `mindgap run | pretrain | improve <recipe> [key=value ...]`: validate the recipe, open (or
// resume) the run directory, then pretrain if round-0000 is missing and run the rounds.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/distributed/communicator.h"
#include "core/log.h"
#include "core/recipe/recipe.h"
#include "core/run/run_dir.h"
#include "core/run/stop_signal.h"
#include "tools/cli/commands.h"
#include "trainers/pretrain.h"
#include "trainers/round_loop.h"

namespace mg::cli {
namespace {

enum class Stages { All, PretrainOnly, RoundsOnly };

Action add_recipe_command(CLI::App& app, const char* name, const char* help, Stages stages) {
  auto* sub = app.add_subcommand(name, help);
  auto recipe_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto check_only = std::make_shared<bool>(false);
  sub->add_option("recipe", *recipe_path, "recipe YAML file")->required();
  sub->add_option("overrides", *overrides, "key=value overrides, e.g. improve.rounds=5");
  sub->add_flag("--check", *check_only, "validate the recipe and the run directory, change nothing");
  auto from = std::make_shared<std::string>();
  if (stages == Stages::RoundsOnly)
    sub->add_option("--from", *from, "start from this run's round-0000 (e.g. the arms of a study)");
  return [=]() -> int {
    Recipe recipe = load_recipe(*recipe_path, *overrides);
    if (*check_only) {
      RunDir rd = inspect_run_dir(recipe);
      log::info("recipe " + *recipe_path + " is valid; run.dir " + rd.root.string() +
                (rd.resumed ? " would be resumed" : " would be created"));
      return 0;
    }
    // From here on SIGINT/SIGTERM stop the run at its next safe point (exit 130/143).
    install_stop_handlers();
    // Looked at before open_run, which writes recipe.yaml when it forks.
    const bool existed = fs::exists(std::filesystem::path(recipe.run.dir) / "recipe.yaml");
    RunContext ctx = open_run(recipe, /*create=*/true, *from);
    log::info(std::string(existed ? "resuming " : "created ") + ctx.run.root.string() +
              (!existed && !from->empty() ? " from " + *from + "'s round-0000" : ""));
    // A rank that fails ends the whole job (no other rank is left waiting in a collective).
    try {
      run_or_abort(*ctx.comm, [&] {
        if (stages == Stages::RoundsOnly && latest_good_round(ctx.run) < 0)
          fail_input(ctx.run.root.string() + ": no round-0000 to improve on: run `mindgap pretrain` first");
        if (stages != Stages::RoundsOnly) pretrain(ctx);
        if (stages != Stages::PretrainOnly) run_rounds(ctx);
      });
    } catch (const Error& e) {
      if (e.stopped() && ctx.comm->world_size() > 1) {
        // A signal stops every rank at the same safe point: they leave MPI together, in order,
        // so that each exits 130/143 rather than through MPI_Abort. Said first: when the
        // signal went to mpirun, mpirun is ending the job and kills the ranks while they wait
        // in MPI_Finalize for it, so the rank never gets back to main to say it.
        std::cerr << "stopped: " << e.what() << std::endl;
        ctx.comm.reset();
        std::exit(e.exit_code());
      }
      throw;
    }
    return 0;
  };
}

}  // namespace

Action add_run(CLI::App& app) {
  return add_recipe_command(app, "run", "pretrain (if needed) and self-improve, as the recipe says; resumes", Stages::All);
}
Action add_pretrain(CLI::App& app) {
  return add_recipe_command(app, "pretrain", "pretrain round-0000 only", Stages::PretrainOnly);
}
Action add_improve(CLI::App& app) {
  return add_recipe_command(app, "improve", "run the improvement rounds on an existing round-0000", Stages::RoundsOnly);
}

}  // namespace mg::cli
