// Data parallelism of the loop on CPU ranks: a 2-rank round (mpirun, or torchrun over Gloo)
// keeps the same samples and the same filtered set, with the same gap metrics, as the 1-rank
// round from the same round-0000. Prompts are sharded by rank and gathered; seeds depend on (seed, round, prompt,
// sample) only.
#include "test_paths.h"
#include <nlohmann/json.hpp>

#include "core/report/metrics.h"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using mg::testing::micro_recipe;
using mg::testing::run_mindgap;

namespace {

// mpirun inside a test: the outer environment must not leak into the job.
std::string mpirun_env() {
  return "env -u OMPI_COMM_WORLD_RANK -u OMPI_COMM_WORLD_SIZE -u OMPI_COMM_WORLD_LOCAL_RANK "
         "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=PASSIVE "
         "timeout 120 mpirun -np 2 --oversubscribe --bind-to none";
}

#if defined(MINDGAP_HAVE_GLOO) && defined(MG_TORCHRUN)
// torchrun inside a test: no launcher variables of an outer job; a free port of its own.
std::string torchrun_env() {
  return "env -u RANK -u WORLD_SIZE -u LOCAL_RANK -u MASTER_ADDR -u MASTER_PORT -u OMPI_COMM_WORLD_RANK "
         "-u OMPI_COMM_WORLD_SIZE OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 timeout -k 5 120 " MG_TORCHRUN
         " --standalone --nnodes=1 --nproc_per_node=2 --max-restarts=0 --no-python";
}
#endif

// One round from a shared round-0000 on 1 rank and on 2 (started by `launcher`), with
// `overrides`: the two runs must keep the same samples, scores, kept set (and check answers)
// and metrics.
// `expect_launch` is what rank 0 must report: "<launcher>, communicating over <backend>".
void same_round_on_two_ranks(const std::string& name, const std::string& overrides,
                             const std::string& launcher = mpirun_env(),
                             const std::string& expect_launch = "mpirun, communicating over mpi") {
  auto scratch = mg::testing::scratch_dir(name);
  auto base = scratch / "base", one = scratch / "one", two = scratch / "two";
  const std::string rounds = " improve.rounds=1" + overrides;
  ASSERT_EQ(run_mindgap("pretrain " + micro_recipe() + " run.dir=" + base.string() + rounds, scratch).code, 0);
  auto res = run_mindgap("improve " + micro_recipe() + " --from " + base.string() + " run.dir=" + one.string() + rounds,
                         scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  std::string cmd = launcher + " " + mg::test::binary_dir() + "/mindgap improve " + micro_recipe() +
                    " --from " + base.string() + " run.dir=" + two.string() + rounds + " > " +
                    (scratch / "ranks.txt").string() + " 2>&1";
  int status = std::system(cmd.c_str());
  ASSERT_EQ(status, 0) << mg::fs::read_file(scratch / "ranks.txt");
  EXPECT_NE(mg::fs::read_file(scratch / "ranks.txt").find("2 ranks launched by " + expect_launch),
            std::string::npos)
      << mg::fs::read_file(scratch / "ranks.txt");

  EXPECT_EQ(mg::fs::read_file(one / "round-0001" / "samples.jsonl"),
            mg::fs::read_file(two / "round-0001" / "samples.jsonl"));
  auto s1 = mg::read_metrics(one / "round-0001" / "scored.jsonl");
  auto s2 = mg::read_metrics(two / "round-0001" / "scored.jsonl");
  ASSERT_EQ(s1.size(), s2.size());
  for (size_t i = 0; i < s1.size(); ++i)
    EXPECT_NEAR(s1[i]["score"].get<double>(), s2[i]["score"].get<double>(), 1e-5) << i;
  EXPECT_EQ(mg::fs::read_file(one / "round-0001" / "kept.jsonl"), mg::fs::read_file(two / "round-0001" / "kept.jsonl"));
  auto r1 = mg::read_metrics(one / "metrics.jsonl"), r2 = mg::read_metrics(two / "metrics.jsonl");
  ASSERT_FALSE(r1.empty());
  ASSERT_FALSE(r2.empty());
  for (const char* key : {"J_f", "J_filtered", "gap", "pass1", "passk", "kept", "fallback_answers", "fallback_precision"})
    EXPECT_EQ(r1.back().value(key, nlohmann::json()), r2.back().value(key, nlohmann::json())) << key;
  int check_rows = 0;  // the check's answers, compared with the samples' rows above
  for (const auto& row : s1) check_rows += row.value("source", "") == "check";
  if (overrides.find("fallback=check") != std::string::npos) {
    EXPECT_GT(check_rows, 0) << "the fallback case has the check's answers in scored.jsonl";
    EXPECT_GT(r1.back()["fallback_answers"].get<int>(), 0) << "the fallback case must train on some";
  }
  // Distillation is data-parallel: the weights agree to float rounding, not bit for bit.
  if (!::testing::Test::HasFailure()) fs::remove_all(scratch);
}

}  // namespace

TEST(LoopRanks, TwoRanksKeepTheSameSetAsOne) { same_round_on_two_ranks("ranks", ""); }

// filter.fallback check: each rank's check answers for its own prompts, gathered, give the same
// kept set.
TEST(LoopRanks, TwoRanksFallBackOnTheSameAnswersAsOne) {
  same_round_on_two_ranks("ranks_fallback",
                          " improve.verify.method=equivalent improve.verify.split=2 improve.filter.method=threshold"
                          " improve.filter.fallback=check improve.sampling.temperature=0");
}

// The same round with the 2 CPU ranks started by torchrun: they communicate over Gloo.
TEST(LoopRanks, TorchrunRanksKeepTheSameSetAsOne) {
#if defined(MINDGAP_HAVE_GLOO) && defined(MG_TORCHRUN)
  same_round_on_two_ranks("ranks_torchrun", "", torchrun_env(), "torchrun, communicating over gloo");
#else
  GTEST_SKIP() << "this build has no Gloo communicator or no torchrun was found (see docs/launching.md)";
#endif
}

// A new run directory opened by two ranks at once: every rank checks it before rank 0 writes
// anything. Rank 1 used to look while rank 0 was writing recipe.yaml, and the launch failed
// now and then (more often with OMP_WAIT_POLICY exported, which starts the ranks closer together).
TEST(LoopRanks, TwoRanksCreateAFreshRunDirectory) {
  auto scratch = mg::testing::scratch_dir("ranks_fresh");
  for (int i = 0; i < 3; ++i) {
    const auto dir = scratch / ("run" + std::to_string(i));
    auto res = run_mindgap("pretrain " + micro_recipe() + " pretrain.steps=4 run.dir=" + dir.string(), scratch,
                           mpirun_env() + " -x OMP_WAIT_POLICY -x OMP_NUM_THREADS=1");
    ASSERT_EQ(res.code, 0) << "launch " << i << ": " << res.err;
    EXPECT_TRUE(fs::exists(dir / "round-0000" / "model.safetensors"));
  }
  if (!::testing::Test::HasFailure()) fs::remove_all(scratch);
}
