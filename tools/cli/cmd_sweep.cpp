// `mindgap sweep <recipe> [key=value ...]`: the gap against pretraining compute, per verify
// method (trainers/sweep.h); resumes where it was stopped.
#include "core/log.h"
#include "core/recipe/recipe.h"
#include "core/run/stop_signal.h"
#include "tools/cli/commands.h"
#include "trainers/sweep.h"

namespace mg::cli {

Action add_sweep(CLI::App& app) {
  auto* sub = app.add_subcommand("sweep", "the gap against pretraining compute: shapes × steps × verify methods");
  auto recipe_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  sub->add_option("recipe", *recipe_path, "recipe YAML file with a sweep: section")->required();
  sub->add_option("overrides", *overrides, "key=value overrides, e.g. sweep.at_steps=[100,300]");
  return [=]() -> int {
    const Recipe recipe = load_recipe(*recipe_path, *overrides);
    install_stop_handlers();
    run_sweep(recipe);
    return 0;
  };
}

}  // namespace mg::cli
