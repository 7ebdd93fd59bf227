#include "tools/cli/run_args.h"

#include "core/run/checkpoint.h"
#include "core/errors.h"

namespace mg::cli {

std::shared_ptr<RunArgs> add_run_args(CLI::App* sub) {
  auto a = std::make_shared<RunArgs>();
  sub->add_option("run_dir", a->dir, "run directory")->required();
  sub->add_option("--round", a->round, "round to use (default: the newest complete one)");
  sub->add_option("overrides", a->overrides, "key=value recipe overrides (e.g. improve.verify.method=consistency)");
  return a;
}

std::pair<RunContext, Gpt> open_round(RunArgs& a) {
  RunContext ctx = open_existing_run(a.dir, a.overrides);
  int latest = latest_good_round(ctx.run);
  if (latest < 0) fail_input(a.dir + ": no complete round to read");
  if (a.round < 0) a.round = latest;
  if (a.round > latest) fail_input(a.dir + ": round " + std::to_string(a.round) + " is not complete (newest: " +
                                   std::to_string(latest) + ")");
  Gpt model = make_model(ctx);
  load_round_weights(ctx, a.round, model);
  return {std::move(ctx), model};
}

}  // namespace mg::cli
