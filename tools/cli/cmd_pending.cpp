// Subcommands whose work is not built yet: they parse their arguments and say so (exit 1).
#include "core/errors.h"
#include "tools/cli/commands.h"

namespace mg::cli {
namespace {

Action pending(CLI::App& app, const char* name, const char* help) {
  auto* sub = app.add_subcommand(name, help);
  auto args = std::make_shared<std::vector<std::string>>();
  sub->add_option("args", *args, "arguments");
  std::string n = name;
  return [n]() -> int { fail_internal("mindgap " + n + " is not available yet"); };
}

}  // namespace

Action add_pretrain(CLI::App& app) { return pending(app, "pretrain", "pretrain round-0000 only"); }
Action add_improve(CLI::App& app) { return pending(app, "improve", "run the improvement rounds only"); }
Action add_eval(CLI::App& app) { return pending(app, "eval", "held-out accuracy of a checkpoint"); }
Action add_sample(CLI::App& app) { return pending(app, "sample", "sample answers, optionally best-of-N by self-verification"); }
Action add_gap(CLI::App& app) { return pending(app, "gap", "the generation-verification gap of a checkpoint, without training"); }
Action add_export(CLI::App& app) { return pending(app, "export", "export a round's weights"); }
Action add_compare(CLI::App& app) { return pending(app, "compare", "one table and plot of several runs"); }

}  // namespace mg::cli
