// `mindgap import --format hf <dir> --out <run_dir> [--recipe R] [key=value ...]`: a Hugging Face
// model directory (what `export --format hf` writes, or that model trained further elsewhere)
// becomes the round-0000 of a new run, which `mindgap improve`, `eval`, `gap` ... then use.
#include "core/log.h"
#include "tools/cli/commands.h"
#include "trainers/inspect.h"

namespace mg::cli {

Action add_import(CLI::App& app) {
  auto* sub = app.add_subcommand("import", "a Hugging Face model directory as the round-0000 of a new run");
  auto a = std::make_shared<HfImport>();
  auto format = std::make_shared<std::string>();
  sub->add_option("dir", a->hf_dir, "the model directory (config.json, model.safetensors, tokenizer files)")->required();
  sub->add_option("--format", *format, "the directory's format: hf")->required()->check(CLI::IsMember({"hf"}));
  sub->add_option("--out", a->run_dir, "the new run directory")->required();
  sub->add_option("--recipe", a->recipe, "the run's recipe (default: the one export wrote, <dir>/mindgap/recipe.yaml)");
  sub->add_option("overrides", a->overrides, "key=value recipe overrides (model.* come from config.json)");
  // Every bound variable lives as long as the action: CLI11 writes into them while parsing,
  // after this function has returned (the sanitizer build caught `format` freed by then).
  return [a, format]() -> int {
    const int64_t params = import_hf(*a);
    log::info("imported " + a->hf_dir + " (" + std::to_string(params) + " parameters) as " + a->run_dir +
              "/round-0000");
    return 0;
  };
}

}  // namespace mg::cli
