// `mindgap sweep`: the least-squares fit, the shape syntax, the recipe's sweep checks, and a
// micro sweep through the real binary (2 shapes x 2 steps x 5 methods): every row, FLOPs by
// hand, the same samples for every method, and a kill -9 resumed to the same bytes.
#include "test_paths.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>

#include "core/errors.h"
#include "core/fs.h"
#include "core/report/metrics.h"
#include "core/stats/linear_fit.h"
#include "core/recipe/recipe.h"
#include "core/recipe/sweep_shape.h"
#include "models/flops.h"
#include "tests/cli_runner.h"
#include "tests/recipe_error.h"

namespace fs = std::filesystem;
using mg::testing::run_mindgap;

namespace {

using mg::testing::error_of;

const char* kSweepRecipe = R"(
task: {name: addition}
model: {n_layer: 2, n_head: 2, d_model: 32, max_seq: 32}
pretrain: {steps: 10}
sweep: {shapes: [1x16, 2x32x4], at_steps: [4, 8], methods: [mc-direct, score, consistency]}
run: {dir: runs/x}
)";

}  // namespace

TEST(LinearFit, ExactLineHasSlopeInterceptAndR2One) {
  const auto f = mg::fit_line({1, 2, 3}, {2, 4, 6});
  EXPECT_DOUBLE_EQ(f.slope, 2);
  EXPECT_NEAR(f.intercept, 0, 1e-12);
  EXPECT_DOUBLE_EQ(f.r2, 1);
  EXPECT_EQ(f.points, 3);
}

TEST(LinearFit, NoisyPointsMatchTheFitWorkedByHand) {
  // mean x 1.5, mean y 2.75; Sxx 5, Sxy 5.5 -> slope 1.1, intercept 1.1; residuals
  // -0.1, 0.8, -1.3, 0.6 -> SS_res 2.7 of SS_tot 8.75.
  const auto f = mg::fit_line({0, 1, 2, 3}, {1, 3, 2, 5});
  EXPECT_NEAR(f.slope, 1.1, 1e-12);
  EXPECT_NEAR(f.intercept, 1.1, 1e-12);
  EXPECT_NEAR(f.r2, 1 - 2.7 / 8.75, 1e-12);
}

TEST(LinearFit, NonFinitePairsAreLeftOutAndDegenerateFitsAreNaN) {
  const double nan = std::nan("");
  const auto f = mg::fit_line({0, 1, nan, 2, 3, 7}, {1, 3, 9, 2, 5, INFINITY});
  EXPECT_EQ(f.points, 4);
  EXPECT_NEAR(f.slope, 1.1, 1e-12);
  const auto one_x = mg::fit_line({2, 2, 2}, {1, 2, 3});
  EXPECT_TRUE(std::isnan(one_x.slope) && std::isnan(one_x.intercept) && std::isnan(one_x.r2));
  const auto flat = mg::fit_line({1, 2, 3}, {0.5, 0.5, 0.5});
  EXPECT_DOUBLE_EQ(flat.slope, 0);
  EXPECT_TRUE(std::isnan(flat.r2));  // nothing to explain
  EXPECT_TRUE(std::isnan(mg::fit_line({}, {}).slope));
  EXPECT_THROW(mg::fit_line({1, 2}, {1}), mg::Error);
}

TEST(SweepShape, ParsesTwoOrThreeDimensionsAndRefusesTheRest) {
  auto s = mg::parse_sweep_shape("2x64", 4);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->n_layer, 2);
  EXPECT_EQ(s->d_model, 64);
  EXPECT_EQ(s->n_head, 4);
  EXPECT_EQ(s->name, "2x64");
  s = mg::parse_sweep_shape("4x128x8", 4);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->n_head, 8);
  for (const char* bad : {"", "2", "2x", "x64", "2x64x", "2x64x4x1", "0x64", "2x-64", "2x6.4", "2 x 64", "2x4"}) {
    std::string problem;
    EXPECT_FALSE(mg::parse_sweep_shape(bad, 1, &problem)) << bad;
    EXPECT_NE(problem.find(std::string("'") + bad + "'"), std::string::npos) << problem;
  }
  std::string problem;
  EXPECT_FALSE(mg::parse_sweep_shape("2x30", 4, &problem));
  EXPECT_NE(problem.find("do not divide"), std::string::npos) << problem;
}

TEST(SweepRecipe, SweepSectionParsesAndTeachesTheFormatsItsMethodsRead) {
  const auto r = mg::parse_recipe(kSweepRecipe, "r.yaml");
  EXPECT_EQ(r.sweep.shapes, (std::vector<std::string>{"1x16", "2x32x4"}));
  EXPECT_EQ(r.sweep.at_steps, (std::vector<int>{4, 8}));
  // The base method is mc with the cot format; the sweep adds direct (mc-direct) and score.
  EXPECT_EQ(mg::trained_verify_formats(r), (std::vector<std::string>{"cot", "direct", "score"}));
  const auto v = mg::sweep_method_verify(r.improve.verify, "mc-direct");
  EXPECT_EQ(v.method, "mc");
  EXPECT_EQ(v.format, "direct");
  // Round trip through the written-out recipe.
  EXPECT_EQ(mg::parse_recipe(mg::recipe_to_yaml(r), "again.yaml").sweep.methods, r.sweep.methods);
}

TEST(SweepRecipe, BadSweepsAreRefusedNamingTheKey) {
  EXPECT_NE(error_of(kSweepRecipe, {"sweep.shapes=[1x16, 2x30]"}).find("sweep.shapes"), std::string::npos);
  EXPECT_NE(error_of(kSweepRecipe, {"sweep.shapes=[1x16, 1x16]"}).find("listed twice"), std::string::npos);
  EXPECT_NE(error_of(kSweepRecipe, {"sweep.at_steps=[8, 4]"}).find("ascending"), std::string::npos);
  EXPECT_NE(error_of(kSweepRecipe, {"sweep.methods=[peers]"}).find("sweep.methods"), std::string::npos);
  EXPECT_NE(error_of(kSweepRecipe, {"pretrain.keep_at=[4, 20]"}).find("past pretrain.steps"), std::string::npos);
  EXPECT_NE(error_of(kSweepRecipe, {"pretrain.keep_at=[4]", "pretrain.stop_at_greedy=0.9"}).find("stop_at_greedy"),
            std::string::npos);
  // rope needs an even head size: 2x36x6 has heads of 6 (fine), 1x18x2 of 9 (refused).
  EXPECT_NE(error_of(kSweepRecipe, {"model.pos=rope", "sweep.shapes=[1x18x2]"}).find("even head size"),
            std::string::npos);
  const std::string sudoku = error_of(kSweepRecipe, {"task.name=sudoku", "sweep.methods=[equivalent]"});
  EXPECT_NE(sudoku.find("sweep.methods"), std::string::npos) << sudoku;
  EXPECT_NE(sudoku.find("sudoku"), std::string::npos) << sudoku;
}

namespace {

class SweepE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch = mg::testing::scratch_dir("sweep");
    recipe = scratch / "sweep.yaml";
    std::ofstream(recipe) << mg::fs::read_file(mg::testing::micro_recipe())
                          << "sweep: {shapes: [1x16, 1x32], at_steps: [6, 12], methods: [mc-cot, consistency, tournament, none, oracle]}\n";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(scratch);
  }
  std::string sweep_args(const fs::path& dir) const {
    // Room for the tournament's 5 pairwise tokens beside addition's 28.
    return "sweep " + recipe.string() + " run.dir=" + dir.string() + " tokenizer.vocab_size=40";
  }
  fs::path scratch, recipe;
};

// Starts `mindgap sweep` and kills it with SIGKILL after `after`; true when it was still running.
bool kill_sweep_after(const std::string& args, std::chrono::milliseconds after) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = "exec " + mg::test::binary_dir() + "/mindgap " + args + " > /dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(after);
  const bool running = ::kill(pid, SIGKILL) == 0;
  int status = 0;
  waitpid(pid, &status, 0);
  return running && WIFSIGNALED(status);
}

}  // namespace

TEST_F(SweepE2E, MicroSweepMeasuresEveryPointOnTheSameSamplesAndResumesToTheSameBytes) {
  const fs::path a = scratch / "a";
  const auto started = std::chrono::steady_clock::now();
  auto res = run_mindgap(sweep_args(a), scratch);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(res.code, 0) << res.err;

  const auto rows = mg::read_metrics(a / "sweep.jsonl");
  ASSERT_EQ(rows.size(), 20u);  // 2 shapes x 2 steps x 5 methods
  const std::vector<std::string> methods = {"mc-cot", "consistency", "tournament", "none", "oracle"};
  std::map<std::pair<std::string, int>, double> j_f;  // (shape, step) -> J(f) of the first method
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    for (const char* key : {"shape", "n_layer", "d_model", "n_head", "vocab", "params", "step", "tokens", "flops", "method",
                            "J_f", "J_filtered", "gap", "relative_gap", "auroc", "precision", "recall"})
      EXPECT_TRUE(row.contains(key)) << key << " in " << row.dump();
    // Rows by method, then shape and step as listed.
    EXPECT_EQ(row["method"], methods[i / 4]);
    EXPECT_EQ(row["shape"], (i % 4) < 2 ? "1x16" : "1x32");
    EXPECT_EQ(row["step"], (i % 2) == 0 ? 6 : 12);
    // FLOPs by hand: the non-pad tokens trained on times 6N + 12 L T d per token, with N =
    // 12 L d^2 + V d and T = max_seq / 2 (models/flops.h), V the model's vocabulary.
    const double L = row["n_layer"], d = row["d_model"], T = 16, V = row["vocab"];
    const double per_token = 6 * (12 * L * d * d + V * d) + 12 * L * T * d;
    EXPECT_GT(row["tokens"].get<double>(), 0);
    EXPECT_NEAR(row["flops"].get<double>(), row["tokens"].get<double>() * per_token, 1e-6 * row["flops"].get<double>());
    // null where nothing was kept (the oracle of a model that answers nothing right).
    if (row["gap"].is_number())
      EXPECT_NEAR(row["gap"].get<double>(), row["J_filtered"].get<double>() - row["J_f"].get<double>(), 1e-9);
    else
      EXPECT_EQ(row["method"], "oracle") << row.dump();
    // Sampled once per point: every method sees the same samples, so the same J(f).
    const auto key = std::make_pair(row["shape"].get<std::string>(), row["step"].get<int>());
    if (!j_f.count(key)) j_f[key] = row["J_f"];
    EXPECT_DOUBLE_EQ(row["J_f"].get<double>(), j_f[key]) << row.dump();
    // The control arms: no filter keeps every sample (gap 0); the oracle is never below it.
    if (row["method"] == "none") EXPECT_EQ(row["gap"].get<double>(), 0) << row.dump();
    if (row["method"] == "oracle" && row["gap"].is_number()) EXPECT_GE(row["gap"].get<double>(), 0) << row.dump();
  }
  // The tokens at step 12 are twice those at step 6 (same batch size, every step counted).
  EXPECT_NEAR(rows[1]["tokens"].get<double>(), 2 * rows[0]["tokens"].get<double>(), 0.2 * rows[0]["tokens"].get<double>());
  EXPECT_GT(rows[2]["flops"].get<double>(), rows[0]["flops"].get<double>());  // wider, more FLOPs per token

  const auto fits = mg::read_metrics(a / "sweep_fit.jsonl");
  ASSERT_EQ(fits.size(), 5u);
  EXPECT_EQ(fits[0]["method"], "mc-cot");
  EXPECT_EQ(fits[0]["points"], 4);
  EXPECT_NE(res.err.find("rel.gap"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("slope b"), std::string::npos) << res.err;
  EXPECT_TRUE(fs::exists(a / "sweep.png") || res.err.find("matplotlib") != std::string::npos) << res.err;
  for (const char* shape : {"1x16", "1x32"})
    for (int step : {6, 12}) {
      EXPECT_TRUE(fs::exists(a / shape / "snapshots" / ("step-" + std::to_string(step) + ".safetensors")));
      EXPECT_TRUE(fs::exists(a / shape / "points" / ("step-" + std::to_string(step) + ".json")));
    }

  // Run again: nothing measured again, same bytes.
  const std::string first = mg::fs::read_file(a / "sweep.jsonl");
  res = run_mindgap(sweep_args(a), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.err.find("sweep 1x16 step 6 mc-cot:"), std::string::npos) << "a stored point was measured again";
  EXPECT_EQ(mg::fs::read_file(a / "sweep.jsonl"), first);

  // Killed with SIGKILL part-way (at a third and at two thirds of the run's time), then run
  // again: the same bytes as the uninterrupted sweep.
  const fs::path b = scratch / "b";
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(took);
  const bool killed_early = kill_sweep_after(sweep_args(b), ms / 3);
  const bool killed_late = kill_sweep_after(sweep_args(b), ms / 3);
  std::printf("sweep took %lld ms; killed at a third: %d, again a third later: %d\n",
              static_cast<long long>(ms.count()), killed_early, killed_late);
  res = run_mindgap(sweep_args(b), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::fs::read_file(b / "sweep.jsonl"), first);
  EXPECT_EQ(mg::fs::read_file(b / "sweep_fit.jsonl"), mg::fs::read_file(a / "sweep_fit.jsonl"));
  EXPECT_EQ(mg::fs::read_file(b / "1x32" / "snapshots" / "step-12.safetensors"),
            mg::fs::read_file(a / "1x32" / "snapshots" / "step-12.safetensors"));
}

TEST_F(SweepE2E, SweepUnderSeveralRanksIsRefusedBeforeWriting) {
  const fs::path dir = scratch / "ranked";
  auto res = run_mindgap(sweep_args(dir), scratch, "OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0");
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("one process"), std::string::npos) << res.err;
  EXPECT_FALSE(fs::exists(dir));
}

TEST_F(SweepE2E, RecipeWithoutASweepSectionIsRefused) {
  auto res = run_mindgap("sweep " + mg::testing::micro_recipe() + " run.dir=" + (scratch / "none").string(), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("sweep.shapes"), std::string::npos) << res.err;
  EXPECT_FALSE(fs::exists(scratch / "none"));
}
