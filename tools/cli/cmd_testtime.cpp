// `mindgap testtime <run> [--round R] [--best-of 1,2,4,...] [--methods a,b] [--prompts P]`: the
// held-out accuracy of the answer each verify method picks among N samples, against N
// (trainers/testtime.h). Writes testtime-round-<R>.jsonl and .png in the run directory.
#include <algorithm>
#include <iostream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/report/plot.h"
#include "core/recipe/recipe_schema.h"
#include "tools/cli/commands.h"
#include "tools/cli/run_args.h"
#include "trainers/testtime.h"

namespace mg::cli {
namespace {

// Each method must be one the sweep knows (not a control arm: none and oracle are always
// drawn) and read only verdict formats that the run was taught.
void check_methods(const RunContext& ctx, const std::vector<std::string>& methods) {
  const auto names = schema::sweep_method_names();
  const auto taught = trained_verify_formats(ctx.recipe);
  for (const auto& m : methods) {
    if (std::find(names.begin(), names.end(), m) == names.end() || sweep_control_arm(m) ||
        m == name_of(VerifyMethod::Peers))
      fail_input("--methods: '" + m + "' is not a verify method (mc-direct, mc-cot, score, consistency, equivalent, "
                 "tournament, ensemble; none and oracle are always drawn)");
    for (const auto& f : formats_read(sweep_method_verify(ctx.recipe.improve.verify, m)))
      if (std::find(taught.begin(), taught.end(), f) == taught.end())
        fail_input("--methods: '" + m + "' reads the " + f + " verdict, which this run's pretraining did not teach");
  }
}

}  // namespace

Action add_testtime(CLI::App& app) {
  auto* sub = app.add_subcommand("testtime", "best-of-N accuracy on held-out prompts against N, per verify method");
  auto a = add_run_args(sub);
  auto req = std::make_shared<TestTimeRequest>();
  req->best_of = {1, 2, 4, 8, 16, 32, 64};
  sub->add_option("--best-of", req->best_of, "the N to measure, ascending (default 1,2,4,...,64)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  sub->add_option("--methods", req->methods, "verify methods, as in sweep.methods (default: the recipe's, consistency and likelihood)")
      ->delimiter(',');
  sub->add_option("--prompts", req->prompts, "held-out prompts (default 256)")->check(CLI::Range(1, 100000));
  return [a, req]() -> int {
    for (size_t i = 1; i < req->best_of.size(); ++i)
      if (req->best_of[i] <= req->best_of[i - 1]) fail_input("--best-of: must be strictly ascending");
    auto [ctx, model] = open_round(*a);
    TestTimeRequest r = *req;
    r.round = a->round;
    if (r.methods.empty()) {
      r.methods = {ctx.recipe.improve.verify.method == name_of(VerifyMethod::Mc)
                       ? "mc-" + ctx.recipe.improve.verify.format
                       : ctx.recipe.improve.verify.method};
      // Beside it, majority vote and the generator's own likelihood: the two that rank the model's
      // own samples best here (docs/results/self-verification.md).
      for (VerifyMethod m : {VerifyMethod::Consistency, VerifyMethod::Likelihood})
        if (std::find(r.methods.begin(), r.methods.end(), name_of(m)) == r.methods.end()) r.methods.push_back(name_of(m));
    }
    check_methods(ctx, r.methods);
    const auto rows = test_time_curve(ctx, model, r);
    char name[64];
    std::snprintf(name, sizeof name, "testtime-round-%04d", a->round);
    const auto jsonl = ctx.run.root / (std::string(name) + ".jsonl");
    std::string text;
    for (const auto& row : rows) text += row.dump() + "\n";
    fs::write_file_atomic(jsonl, text);
    std::cerr << format_test_time_table(rows);
    draw_plot(sibling_plot_script("plot_testtime.py"), {jsonl.string()}, ctx.run.root / (std::string(name) + ".png"),
              "test-time plot");
    log::info("wrote " + jsonl.string());
    return 0;
  };
}

}  // namespace mg::cli
