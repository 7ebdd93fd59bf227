// `mindgap run <recipe> [key=value ...]`: validate the recipe, open (or resume) the run
// directory, then pretrain if round-0000 is missing and run the improvement rounds.
#include "core/log.h"
#include "core/recipe.h"
#include "core/run_dir.h"
#include "core/runtime.h"
#include "tools/cli/commands.h"

namespace mg::cli {

Action add_run(CLI::App& app) {
  auto* sub = app.add_subcommand("run", "pretrain (if needed) and self-improve, as the recipe says; resumes");
  auto recipe_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto check_only = std::make_shared<bool>(false);
  sub->add_option("recipe", *recipe_path, "recipe YAML file")->required();
  sub->add_option("overrides", *overrides, "key=value overrides, e.g. improve.rounds=5");
  sub->add_flag("--check", *check_only, "validate the recipe and the run directory, change nothing");
  return [=]() -> int {
    Recipe recipe = load_recipe(*recipe_path, *overrides);
    if (*check_only) {
      RunDir rd = inspect_run_dir(recipe);
      log::info("recipe " + *recipe_path + " is valid; run.dir " + rd.root.string() +
                (rd.resumed ? " would be resumed" : " would be created"));
      return 0;
    }
    set_threads(recipe.run.threads);
    RunDir rd = open_run_dir(recipe);
    log::info(std::string(rd.resumed ? "resuming " : "created ") + rd.root.string());
    return 0;
  };
}

}  // namespace mg::cli
