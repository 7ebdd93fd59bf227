// `mindgap run | pretrain | improve <recipe> [key=value ...]`: validate the recipe, open (or
// resume) the run directory, then pretrain if round-0000 is missing and run the rounds.
#include "core/checkpoint.h"
#include "core/distributed/communicator.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/manifest.h"
#include "core/log.h"
#include "core/recipe.h"
#include "core/run_dir.h"
#include "tools/cli/commands.h"
#include "trainers/pretrain.h"
#include "trainers/pretrain_data.h"
#include "trainers/round_loop.h"

namespace mg::cli {
namespace {

namespace stdfs = std::filesystem;

// Starts a new run from another run's round-0000 (the arms of a study share one pretraining):
// the keys that shape pretraining must agree; round-0000 must pass its checksums.
void fork_from(const Recipe& recipe, const std::string& from) {
  stdfs::path src = from, dst = recipe.run.dir;
  if (!fs::exists(src / "recipe.yaml")) fail_input(from + ": not a run directory (no recipe.yaml)");
  Recipe base = load_recipe((src / "recipe.yaml").string());
  std::vector<std::string> differ;
  auto a = flatten_recipe(base), b = flatten_recipe(recipe);
  for (const auto& [k, v] : a) {
    bool shapes_pretraining = k.rfind("task.", 0) == 0 || k.rfind("tokenizer.", 0) == 0 || k.rfind("model.", 0) == 0 ||
                              k.rfind("pretrain.", 0) == 0 || k == "run.seed";
    if (shapes_pretraining && b[k] != v) differ.push_back(k);
  }
  // The verdict formats taught in pretraining must cover the ones this run asks for.
  for (const auto& f : trained_verify_formats(recipe)) {
    auto taught = trained_verify_formats(base);
    if (std::find(taught.begin(), taught.end(), f) == taught.end()) differ.push_back("improve.verify (format " + f + " not pretrained)");
  }
  if (!differ.empty()) {
    std::string keys;
    for (const auto& k : differ) keys += (keys.empty() ? "" : ", ") + k;
    fail_input("--from " + from + ": its pretraining differs in " + keys);
  }
  std::string problem;
  if (!verify_manifest(src / "round-0000", &problem)) fail_input(from + "/round-0000: " + problem);
  if (fs::exists(dst / "recipe.yaml")) return;  // already forked: resume as usual
  inspect_run_dir(recipe);                        // refuses a foreign non-empty directory
  stdfs::create_directories(dst);
  stdfs::copy(src / "round-0000", dst / "round-0000.tmp", stdfs::copy_options::recursive);
  stdfs::copy_file(src / "tokenizer.model", dst / "tokenizer.model", stdfs::copy_options::overwrite_existing);
  stdfs::rename(dst / "round-0000.tmp", dst / "round-0000");
  fs::write_file_atomic(dst / "LATEST", "round-0000\n");
  fs::write_file_atomic(dst / "recipe.yaml", recipe_to_yaml(recipe));
}

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
    if (!from->empty() && !*check_only && discover_ranks().rank == 0) fork_from(recipe, *from);
    if (*check_only) {
      RunDir rd = inspect_run_dir(recipe);
      log::info("recipe " + *recipe_path + " is valid; run.dir " + rd.root.string() +
                (rd.resumed ? " would be resumed" : " would be created"));
      return 0;
    }
    RunContext ctx = open_run(recipe);
    log::info(std::string(ctx.run.resumed ? "resuming " : "created ") + ctx.run.root.string());
    if (stages == Stages::RoundsOnly && latest_good_round(ctx.run) < 0)
      fail_input(ctx.run.root.string() + ": no round-0000 to improve on: run `mindgap pretrain` first");
    if (stages != Stages::RoundsOnly) pretrain(ctx);
    if (stages != Stages::PretrainOnly) run_rounds(ctx);
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
