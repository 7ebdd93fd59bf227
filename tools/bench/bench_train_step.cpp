// bench_train_step: mindgap's real training step (`train_step`, on batches built by the real
// pretraining data path of a recipe) against a PyTorch eager step doing the same work
// (tools/bench/bench_train_step_ref.py: same weights, same batches, weighted loss at scored positions,
// clipping, AdamW in two groups). The two sides are timed alternately, `--pairs` times, in one
// run, so that load from other processes falls on both; the table gives min/median/max of the
// speed ratio and the minor page faults per step of each side.
//
//   bench_train_step [--recipe PATH] [--pairs N] [--steps N] [--threads N] [--python PATH]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/errors.h"
#include "core/runtime.h"
#include "core/run/safetensors.h"
#include "tools/bench/bench_support.h"
#include "tools/parse_args.h"
#include "trainers/training/batch.h"
#include "trainers/training/optimizer.h"
#include "trainers/training/pretrain_data.h"
#include "trainers/run/run_context.h"
#include "trainers/training/train_step.h"

namespace {

namespace fs = std::filesystem;
using mg::bench::Clock;
using mg::bench::seconds_since;

struct Options : mg::bench::ReferenceOptions {
  int steps = 5, batches = 8;
  Options() { pairs = 7; }
};

long minor_faults() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// One workload: `batch` pretraining examples per step, from steps 0.. of the recipe's mixture.
struct Workload {
  std::string name;
  int batch;
};

std::vector<std::vector<mg::Example>> build_batches(const mg::RunContext& ctx, int batch, int count) {
  const auto difficulty = mg::difficulty_for_round(ctx.recipe, 0);
  std::vector<std::vector<mg::Example>> out(count);
  for (int s = 0; s < count; ++s)
    for (int i = 0; i < batch; ++i)
      out[s].push_back(mg::pretrain_example(*ctx.task, ctx.recipe, ctx.recipe.run.seed, s, i, difficulty));
  return out;
}

// Weights, batches (as the reference reads them) and the step's settings for the Python side.
void write_reference_inputs(const fs::path& dir, const mg::RunContext& ctx, mg::Gpt& model,
                            const std::vector<std::vector<mg::Example>>& batches, double lr) {
  fs::create_directories(dir);
  mg::save_safetensors(dir / "model.safetensors", mg::module_state(*model));
  for (size_t i = 0; i < batches.size(); ++i) {
    auto b = mg::make_batch(batches[i], *ctx.tokenizer, ctx.recipe.model.max_seq);
    mg::save_safetensors(dir / ("batch-" + std::to_string(i) + ".safetensors"),
                         {{"inputs", b.inputs}, {"targets", b.targets}, {"weights", b.weights}});
  }
  const auto& c = model->config();
  nlohmann::json meta = {{"vocab", c.vocab},       {"n_layer", c.n_layer},
                         {"n_head", c.n_head},     {"d_model", c.d_model},
                         {"max_seq", c.max_seq},   {"pos", c.pos},
                         {"lr", lr},               {"weight_decay", ctx.recipe.pretrain.weight_decay},
                         {"grad_clip", ctx.recipe.pretrain.grad_clip}, {"batches", batches.size()}};
  std::ofstream(dir / "meta.json") << meta.dump();
}

struct Leg {
  double secs = 0;
  long faults = 0;
  double first_loss = 0;
};

struct Row {
  std::string name;
  std::vector<double> ratio, ours_ms, ref_ms, ours_faults, ref_faults;
  double loss_ours = 0, loss_ref = 0;
  std::string why;  // set when the reference could not run
};

Row run_workload(mg::RunContext& ctx, const Workload& w, const Options& o, const fs::path& tmp) {
  Row row{w.name};
  auto batches = build_batches(ctx, w.batch, o.batches);
  torch::manual_seed(ctx.recipe.run.seed);
  mg::Gpt model = mg::make_model(ctx);
  const double lr = ctx.recipe.pretrain.lr, clip = ctx.recipe.pretrain.grad_clip;
  auto opt = mg::make_adamw(*model, lr, ctx.recipe.pretrain.weight_decay);
  const auto dir = tmp / w.name;
  write_reference_inputs(dir, ctx, model, batches, lr);

  mg::bench::CoProcess ref;
  std::string cmd = "OMP_WAIT_POLICY=PASSIVE '" + mg::bench::find_python(o.python) + "' '" +
                    mg::bench::find_tool_file("tools/bench/bench_train_step_ref.py") + "' --dir '" + dir.string() +
                    "' --threads " + std::to_string(o.threads);
  if (!ref.start(cmd, row.why)) return row;

  int turn = 0;
  auto ours = [&](int n) {
    Leg leg;
    long f0 = minor_faults();
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i, ++turn) {
      auto r = mg::train_step(ctx, model, *opt, batches[turn % batches.size()], {}, 1, lr, clip,
                              mg::StepPlace{"bench", 0, static_cast<int>(turn)});
      if (i == 0) leg.first_loss = r.loss;
    }
    leg.secs = seconds_since(t0);
    leg.faults = minor_faults() - f0;
    return leg;
  };
  auto theirs = [&](int n) {
    Leg leg;
    auto reply = ref.ask("run " + std::to_string(n));
    if (std::sscanf(reply.c_str(), "secs=%lf faults=%ld loss=%lf", &leg.secs, &leg.faults, &leg.first_loss) != 3)
      mg::fail_internal("bench_train_step: unexpected reply from the reference: " + reply);
    return leg;
  };
  // Step 1 of both sides starts from the same weights on the same batch: their losses must agree.
  auto a = ours(1), b = theirs(1);
  row.loss_ours = a.first_loss;
  row.loss_ref = b.first_loss;
  ours(o.steps), theirs(o.steps);  // warm-up, both sides
  for (int p = 0; p < o.pairs; ++p) {
    // Alternate which side goes first, so that a trend in the load does not favour one.
    Leg x, y;
    if (p % 2 == 0) x = ours(o.steps), y = theirs(o.steps);
    else y = theirs(o.steps), x = ours(o.steps);
    row.ratio.push_back(y.secs / x.secs);
    row.ours_ms.push_back(1e3 * x.secs / o.steps);
    row.ref_ms.push_back(1e3 * y.secs / o.steps);
    row.ours_faults.push_back(static_cast<double>(x.faults) / o.steps);
    row.ref_faults.push_back(static_cast<double>(y.faults) / o.steps);
  }
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"mindgap's training step against PyTorch eager on the real batches, alternated"};
  mg::bench::add_reference_options(app, o, "model, data and optimizer are used", "timed pairs (one leg of each side)");
  app.add_option("--steps", o.steps, "steps per leg")->capture_default_str();
  return mg::bench::run_main(argc, argv, app, [&] {
    const mg::bench::ScratchDir scratch("bench_train_step");
    const fs::path& tmp = scratch.path();
    auto recipe = scratch.load_recipe(o.recipe, o.threads);
    mg::RunContext ctx = mg::open_run(recipe);
    std::printf("bench_train_step: %s, %d threads, %d pairs x %d steps per leg, allocator: %s\n", o.recipe.c_str(),
                o.threads, o.pairs, o.steps, mg::allocator_tuning().c_str());
    std::printf("ratio = PyTorch time / mindgap time for the same steps (> 1: mindgap faster)\n");
    std::printf("| %-26s | %-20s | %-22s | %-22s | %-17s | %-23s |\n", "batch (real data path)", "ratio min/med/max",
                "mindgap ms/step m/m/m", "PyTorch ms/step m/m/m", "faults/step m vs P", "step-1 loss m vs P");
    std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(28, '-').c_str(), std::string(22, '-').c_str(),
                std::string(24, '-').c_str(), std::string(24, '-').c_str(), std::string(19, '-').c_str(),
                std::string(25, '-').c_str());
    const std::vector<Workload> workloads = {
        {"pretraining " + std::to_string(recipe.pretrain.batch), recipe.pretrain.batch},
        {"distillation-sized " + std::to_string(recipe.improve.distill.batch), recipe.improve.distill.batch}};
    for (const auto& w : workloads) {
      auto row = run_workload(ctx, w, o, tmp);
      if (!row.why.empty()) {
        std::printf("| %-26s | skipped: %s\n", row.name.c_str(), row.why.c_str());
        continue;
      }
      using mg::bench::mmm;
      char loss[64];
      std::snprintf(loss, sizeof loss, "%.5f vs %.5f", row.loss_ours, row.loss_ref);
      std::printf("| %-26s | %-20s | %-22s | %-22s | %-17s | %-23s |\n", row.name.c_str(), mmm(row.ratio, "%.2f").c_str(),
                  mmm(row.ours_ms, "%.0f").c_str(), mmm(row.ref_ms, "%.0f").c_str(),
                  (mg::bench::fmt(mg::bench::median(row.ours_faults), "%.0f") + " vs " +
                   mg::bench::fmt(mg::bench::median(row.ref_faults), "%.0f"))
                      .c_str(),
                  loss);
    }
    return 0;
  });
}
