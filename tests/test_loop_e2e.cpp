// End-to-end runs of the loop on a micro model through the real binary: every stage, every
// verify method, every filter, the curriculum, resume at every stage boundary.
#include "test_paths.h"
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/run/checkpoint.h"
#include "core/run/manifest.h"
#include "core/errors.h"
#include "core/report/metrics.h"
#include "tests/cli_runner.h"
#include "trainers/stages/distill_data.h"
#include "trainers/round_loop.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/sample_io.h"

namespace fs = std::filesystem;
using mg::testing::micro_recipe;
using mg::testing::run_mindgap;

namespace {

std::vector<nlohmann::json> rounds_of(const fs::path& run) {
  std::vector<nlohmann::json> out;
  for (auto& r : mg::read_metrics(run / "metrics.jsonl"))
    if (r.value("kind", "") == "round") out.push_back(r);
  return out;
}

// The difficulty of each round, in order: the schedule a run took.
nlohmann::json difficulties_of(const fs::path& run) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rounds_of(run)) out.push_back(r["difficulty"]);
  return out;
}

class LoopE2E : public ::testing::Test {
 protected:
  void SetUp() override { scratch = mg::testing::scratch_dir("loop"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(scratch);
  }
  fs::path scratch;
};

}  // namespace

TEST_F(LoopE2E, RunWritesEveryRoundAndMetric) {
  auto run = scratch / "run";
  auto res = run_mindgap("run " + micro_recipe() + " run.dir=" + run.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  for (int r = 0; r <= 2; ++r) {
    auto dir = run / ("round-000" + std::to_string(r));
    std::string problem;
    EXPECT_TRUE(mg::verify_manifest(dir, &problem)) << dir << ": " << problem;
    EXPECT_TRUE(fs::exists(dir / "model.safetensors"));
    EXPECT_TRUE(fs::exists(dir / "state.json"));
    if (r > 0) {
      for (const char* f : {"samples.jsonl", "scored.jsonl", "kept.jsonl"}) EXPECT_TRUE(fs::exists(dir / f)) << f;
    }
  }
  EXPECT_EQ(mg::fs::read_file(run / "LATEST").substr(0, 10), "round-0002");
  auto rounds = rounds_of(run);
  ASSERT_EQ(rounds.size(), 2u);
  for (const auto& r : rounds) {
    for (const char* key : {"J_f", "J_filtered", "gap", "relative_gap", "pass1", "passk", "auroc", "kept", "greedy",
                            "precision", "recall", "seconds"})
      EXPECT_TRUE(r.contains(key)) << key;
    EXPECT_NEAR(r["gap"].get<double>(), r["J_filtered"].get<double>() - r["J_f"].get<double>(), 1e-9);
    EXPECT_EQ(r["arm"], "mc-cot/quantile");
  }
  // The console table names the arm and the gap column.
  EXPECT_NE(res.err.find("J(f[w])"), std::string::npos);
  // A second `run` resumes: nothing left to do, same files.
  auto before = mg::fs::read_file(run / "round-0002" / "model.safetensors");
  res = run_mindgap("run " + micro_recipe() + " run.dir=" + run.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::fs::read_file(run / "round-0002" / "model.safetensors"), before);
}

TEST_F(LoopE2E, ResumeAtEveryStageBoundaryIsBitIdentical) {
  auto straight = scratch / "straight", broken = scratch / "broken";
  ASSERT_EQ(run_mindgap("run " + micro_recipe() + " run.dir=" + straight.string(), scratch).code, 0);
  for (const char* stop : {"1:generate", "1:verify", "1:filter", "1:distill", "1:commit", "2:verify"}) {
    auto res = run_mindgap("run " + micro_recipe() + " run.dir=" + broken.string(), scratch,
                           std::string("MINDGAP_STOP_AFTER=") + stop);
    ASSERT_EQ(res.code, 75) << stop << ": " << res.err;
  }
  auto res = run_mindgap("run " + micro_recipe() + " run.dir=" + broken.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  for (int r = 0; r <= 2; ++r) {
    auto name = "round-000" + std::to_string(r);
    EXPECT_EQ(mg::fs::read_file(broken / name / "model.safetensors"),
              mg::fs::read_file(straight / name / "model.safetensors"))
        << name;
  }
  EXPECT_EQ(mg::fs::read_file(broken / "round-0002" / "kept.jsonl"),
            mg::fs::read_file(straight / "round-0002" / "kept.jsonl"));
}

// A run killed during pretraining resumes from the last in-pretraining checkpoint (every
// eval_every steps) and ends bit-identical; an unreadable checkpoint is reported and
// pretraining starts again from step 0, with the same result.
TEST_F(LoopE2E, PretrainResumesFromItsCheckpoint) {
  const std::string every = " pretrain.eval_every=4";
  auto straight = scratch / "straight", broken = scratch / "broken", corrupt = scratch / "corrupt";
  ASSERT_EQ(run_mindgap("pretrain " + micro_recipe() + every + " run.dir=" + straight.string(), scratch).code, 0);
  for (const auto& dir : {broken, corrupt}) {
    auto res = run_mindgap("pretrain " + micro_recipe() + every + " run.dir=" + dir.string(), scratch,
                           "MINDGAP_STOP_AFTER=0:step8");
    ASSERT_EQ(res.code, 75) << res.err;
    ASSERT_TRUE(fs::exists(dir / "round-0000.tmp" / "pretrain.json"));
    EXPECT_FALSE(fs::exists(dir / "round-0000.tmp" / "pretrain-0000004.safetensors")) << "older step removed";
  }
  std::ofstream(corrupt / "round-0000.tmp" / "pretrain-0000008.safetensors", std::ios::trunc) << "junk";

  auto res = run_mindgap("pretrain " + micro_recipe() + every + " run.dir=" + broken.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find("resuming pretraining after step 8"), std::string::npos) << res.err;
  res = run_mindgap("pretrain " + micro_recipe() + every + " run.dir=" + corrupt.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find("starts again from step 0"), std::string::npos) << res.err;

  const auto want = mg::fs::read_file(straight / "round-0000" / "model.safetensors");
  for (const auto& dir : {broken, corrupt}) {
    EXPECT_EQ(mg::fs::read_file(dir / "round-0000" / "model.safetensors"), want) << dir;
    for (const auto& e : fs::directory_iterator(dir / "round-0000"))
      EXPECT_NE(e.path().filename().string().rfind("pretrain", 0), 0u) << e.path() << ": left in the round";
  }
}

TEST_F(LoopE2E, EveryVerifyMethodAndFilterRuns) {
  auto base = scratch / "base";
  // Pretrained once with every verdict format taught (mc cot, score, the tournament's pairs),
  // then forked per arm.
  std::string common = " improve.verify.ensemble=[mc,score,consistency,tournament] tokenizer.vocab_size=40"
                       " improve.rounds=1";
  ASSERT_EQ(run_mindgap("pretrain " + micro_recipe() + " run.dir=" + base.string() +
                            " improve.verify.method=ensemble" + common, scratch).code, 0);
  struct Arm { const char* name; const char* overrides; };
  const Arm arms[] = {
      {"mc", "improve.verify.method=mc"},
      {"score", "improve.verify.method=score"},
      {"consistency", "improve.verify.method=consistency"},
      {"equivalent", "improve.verify.method=equivalent"},
      {"tournament", "improve.verify.method=tournament"},
      {"likelihood", "improve.verify.method=likelihood"},
      {"self_certainty", "improve.verify.method=self_certainty"},
      {"equivalent_rewrites", "improve.verify.method=equivalent improve.verify.rewrites=3"},
      {"equivalent_shifted", "improve.verify.method=equivalent improve.verify.rewrites=3 improve.verify.shifted=2"},
      {"equivalent_offset_by_model",
       "improve.verify.method=equivalent improve.verify.rewrites=3 improve.verify.shifted=2 improve.verify.offset=model"},
      {"equivalent_split",
       "improve.verify.method=equivalent improve.verify.rewrites=3 improve.verify.shifted=2 improve.verify.split=2"},
      {"ensemble_and", "improve.verify.method=ensemble improve.verify.combine=and"},
      {"quantile_global", "improve.filter.scope=global"},
      {"best_of_n", "improve.filter.method=best_of_n"},
      {"threshold", "improve.filter.method=threshold improve.filter.threshold=0.3"},
      {"reweight", "improve.filter.method=reweight"},
      {"none", "improve.filter.method=none"},
      {"oracle", "improve.filter.method=oracle"},
  };
  for (const auto& arm : arms) {
    auto dir = scratch / arm.name;
    auto res = run_mindgap("improve " + micro_recipe() + " --from " + base.string() + " run.dir=" + dir.string() + " " +
                               arm.overrides + common, scratch);
    ASSERT_EQ(res.code, 0) << arm.name << ": " << res.err;
    auto rounds = rounds_of(dir);
    ASSERT_EQ(rounds.size(), 1u) << arm.name;
    const auto& r = rounds[0];
    double score_sum = 0;
    for (const auto& s : mg::read_metrics(dir / "round-0001" / "scored.jsonl")) {
      double u = s["score"].get<double>();
      EXPECT_GE(u, 0.0) << arm.name;
      EXPECT_LE(u, 1.0) << arm.name;
      score_sum += u;
    }
    EXPECT_GT(score_sum, 0.0) << arm.name << ": scores were never filled in";
    if (std::string(arm.name) == "none") {
      EXPECT_TRUE(r["control_arm"].get<bool>());
      EXPECT_NEAR(r["gap"].get<double>(), 0.0, 1e-12) << "keeping everything cannot open a gap";
    }
    if (std::string(arm.name) == "oracle") {
      EXPECT_TRUE(r["control_arm"].get<bool>());
      if (r["kept"].get<int>() > 0) EXPECT_DOUBLE_EQ(r["J_filtered"].get<double>(), 1.0);
    }
  }
}

TEST_F(LoopE2E, CurriculumMeasuresEveryDifficulty) {
  auto run = scratch / "curriculum";
  auto res = run_mindgap("run " + micro_recipe() + " run.dir=" + run.string() +
                             " 'improve.curriculum={digits: [3, 4]}' model.max_seq=40",
                         scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto rounds = rounds_of(run);
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0]["difficulty"], nlohmann::json({3, 3}));
  EXPECT_TRUE(rounds[0]["greedy"].contains("1-2"));
  EXPECT_TRUE(rounds[0]["greedy"].contains("3"));
  EXPECT_TRUE(rounds[1]["greedy"].contains("4"));
  EXPECT_TRUE(rounds[1]["greedy"].contains("3")) << "earlier difficulties are measured again (forgetting)";
}

// improve.advance: the next round moves one step on once a round keeps at least the bar's
// share of its samples, and the loop stops when the last step passes. A threshold of 0 keeps
// every sample (share 1): one round per step, then the curriculum is complete before
// improve.rounds; a second `run` finds nothing to do.
TEST_F(LoopE2E, AdaptiveCurriculumMovesOnAndStopsWhenComplete) {
  auto run = scratch / "adaptive";
  const std::string args = "run " + micro_recipe() + " run.dir=" + run.string() +
                           " 'improve.curriculum={digits: [3, 4]}' model.max_seq=40 improve.rounds=4"
                           " improve.filter.method=threshold improve.filter.threshold=0"
                           " improve.advance.kept_share=0.5";
  auto res = run_mindgap(args, scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto rounds = rounds_of(run);
  ASSERT_EQ(rounds.size(), 2u) << res.err;
  EXPECT_EQ(rounds[0]["difficulty"], nlohmann::json({3, 3}));
  EXPECT_EQ(rounds[1]["difficulty"], nlohmann::json({4, 4}));
  EXPECT_FALSE(rounds[0]["greedy"].contains("4")) << "held-out lengths are those reached so far";
  EXPECT_TRUE(rounds[1]["greedy"].contains("3"));
  EXPECT_NE(res.err.find("the curriculum is complete, stopping"), std::string::npos) << res.err;
  EXPECT_FALSE(fs::exists(run / "round-0003"));
  res = run_mindgap(args, scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(rounds_of(run).size(), 2u);
  EXPECT_FALSE(fs::exists(run / "round-0003"));

  // A control arm replays the schedule the verified arm took, one override per line.
  res = run_mindgap("schedule " + run.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::fs::read_file(scratch / "stdout.txt"),
            "improve.rounds=2\nimprove.curriculum={digits: [3, 4]}\nimprove.advance.kept_share=0\n");
  auto none = scratch / "none";
  res = run_mindgap("improve --from " + run.string() + " " + micro_recipe() + " run.dir=" + none.string() +
                        " model.max_seq=40 improve.filter.method=none improve.rounds=2"
                        " 'improve.curriculum={digits: [3, 4]}' improve.advance.kept_share=0",
                    scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(difficulties_of(none), difficulties_of(run));
}

// Below the bar (a threshold of 1 keeps nothing) a step holds until advance.max_rounds, and the
// last step holds to the end. The schedule is read back from the committed rounds, so a run
// killed after a round and resumed takes the same one and ends with the same weights.
TEST_F(LoopE2E, AdaptiveCurriculumHoldsBelowTheBarAndResumes) {
  auto straight = scratch / "straight", broken = scratch / "broken";
  auto args = [&](const fs::path& dir) {
    return "run " + micro_recipe() + " run.dir=" + dir.string() +
           " 'improve.curriculum={digits: [3, 4]}' model.max_seq=40 improve.rounds=4"
           " improve.filter.method=threshold improve.filter.threshold=1 improve.advance.kept_share=1"
           " improve.advance.max_rounds=2";
  };
  auto res = run_mindgap(args(straight), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto rounds = rounds_of(straight);
  ASSERT_EQ(rounds.size(), 4u);
  for (const auto& r : rounds) ASSERT_EQ(r["kept"], 0) << "the test needs a filter that keeps nothing";
  EXPECT_EQ(difficulties_of(straight), nlohmann::json({{3, 3}, {3, 3}, {4, 4}, {4, 4}}));
  ASSERT_EQ(run_mindgap(args(broken), scratch, "MINDGAP_STOP_AFTER=2:commit").code, 75);
  ASSERT_EQ(run_mindgap(args(broken), scratch, "MINDGAP_STOP_AFTER=3:generate").code, 75);
  res = run_mindgap(args(broken), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(difficulties_of(broken), difficulties_of(straight));
  EXPECT_EQ(mg::fs::read_file(broken / "round-0004" / "model.safetensors"),
            mg::fs::read_file(straight / "round-0004" / "model.safetensors"));
}

// improve.verify.method peers: runs of other seeds vote on each other's samples, in lockstep.
// Round r of a run needs round r-1 of each peer: without it the round stops before it writes
// anything, and names the peer. A peer whose adaptive curriculum is complete votes with its
// last round. A peer that writes problems another way is refused.
TEST_F(LoopE2E, PeersVoteInLockstep) {
  auto a = scratch / "a", b = scratch / "b";
  const std::string common = " improve.verify.method=peers improve.filter.method=threshold";
  auto args = [&](const fs::path& dir, const fs::path& peer, int seed, int rounds, const std::string& extra = "") {
    return "run " + micro_recipe() + " run.dir=" + dir.string() + " run.seed=" + std::to_string(seed) + common +
           " improve.verify.peers=[" + peer.string() + "] improve.rounds=" + std::to_string(rounds) + extra;
  };
  // b keeps every sample of its one step: its curriculum is complete after round 1.
  const std::string b_rule = " improve.filter.threshold=0 'improve.curriculum={digits: [2]}' improve.advance.kept_share=0.5";
  ASSERT_EQ(run_mindgap(args(b, a, 4, 0, b_rule), scratch).code, 0);
  auto res = run_mindgap(args(a, b, 3, 1), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find(b.string() + " (round 0)"), std::string::npos) << res.err;
  auto rounds = rounds_of(a);
  ASSERT_EQ(rounds.size(), 1u);
  EXPECT_EQ(rounds[0]["arm"], "peers/threshold");
  for (const auto& s : mg::read_metrics(a / "round-0001" / "scored.jsonl")) {
    double u = s["score"].get<double>();
    EXPECT_DOUBLE_EQ(u * 4, std::round(u * 4)) << "not a share of 1 peer x 4 samples: " << u;
  }

  // a's round 2 needs b's round 1, which b has not run.
  res = run_mindgap(args(a, b, 3, 2), scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("improve.verify.peers: " + b.string() + ": has no committed round 1"), std::string::npos)
      << res.err;
  EXPECT_FALSE(fs::exists(a / "round-0002")) << "the refused round wrote something";
  EXPECT_FALSE(fs::exists(a / "round-0002.tmp")) << "the refused round wrote something";
  EXPECT_EQ(mg::fs::read_file(a / "LATEST").substr(0, 10), "round-0001");

  res = run_mindgap(args(b, a, 4, 3, b_rule), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find("the curriculum is complete"), std::string::npos) << res.err;
  ASSERT_EQ(rounds_of(b).size(), 1u);
  // a's rounds 2 and 3 both take b's round 1: b will run no other.
  res = run_mindgap(args(a, b, 3, 3), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  size_t votes = 0;
  for (size_t at = res.err.find(b.string() + " (round 1)"); at != std::string::npos;
       at = res.err.find(b.string() + " (round 1)", at + 1))
    ++votes;
  EXPECT_EQ(votes, 2u) << res.err;
  EXPECT_EQ(rounds_of(a).size(), 3u);

  // A peer whose problems are written another way cannot read these prompts.
  auto c = scratch / "c";
  ASSERT_EQ(run_mindgap("pretrain " + micro_recipe() + " run.dir=" + c.string() +
                            " task.reverse_operands=true task.pad_to=4 model.max_seq=40",
                        scratch).code, 0);
  res = run_mindgap("gap " + a.string() + " improve.verify.peers=[" + c.string() + "]", scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("task.reverse_operands"), std::string::npos) << res.err;
  res = run_mindgap("gap " + a.string() + " improve.verify.peers=[" + (scratch / "nowhere").string() + "]", scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("not a run directory"), std::string::npos) << res.err;
  // Its own directory is no peer.
  res = run_mindgap(args(a, a, 3, 3), scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("this run's own directory"), std::string::npos) << res.err;
}

// tools/peers.sh: one run per seed, round 1 of each, then round 2 of each, every run voted on
// by the others' previous round.
TEST_F(LoopE2E, PeersScriptRunsTheSeedsInLockstep) {
  auto out = scratch / "population";
  std::string cmd = "MINDGAP_BUILD=" + mg::test::binary_dir() + " MINDGAP_STUDY_DIR=" + out.string() + " bash " +
                    mg::test::source_dir() + "/tools/peers.sh " + micro_recipe() +
                    " '3 4' improve.filter.method=threshold improve.rounds=2 > " + (scratch / "peers.txt").string() +
                    " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << mg::fs::read_file(scratch / "peers.txt");
  const std::string log = mg::fs::read_file(scratch / "peers.txt");
  for (const char* seed : {"seed3", "seed4"}) {
    auto rounds = rounds_of(out / seed);
    ASSERT_EQ(rounds.size(), 2u) << seed;
    EXPECT_EQ(rounds[1]["arm"], "peers/threshold");
  }
  // seed 4's round 2 is voted on by seed 3's round 1, which the lockstep ran before it.
  EXPECT_NE(log.find((out / "seed3").string() + " (round 1)"), std::string::npos) << log;
  EXPECT_NE(log.find((out / "seed4").string() + " (round 1)"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(out / "compare.txt"));
}

// The curriculum in the fixed-width layout (operands reversed and zero-padded to 4 digits):
// the recipe reaches the task, and every round runs and is measured at its difficulty.
TEST_F(LoopE2E, CurriculumWithPaddedOperands) {
  auto run = scratch / "curriculum_padded";
  auto res = run_mindgap("run " + micro_recipe() + " run.dir=" + run.string() +
                             " 'improve.curriculum={digits: [3, 4]}' task.reverse_operands=true task.pad_to=4"
                             " model.max_seq=40",
                         scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto rounds = rounds_of(run);
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[1]["difficulty"], nlohmann::json({4, 4}));
  EXPECT_TRUE(rounds[1]["greedy"].contains("4"));
  auto recipe = mg::fs::read_file(run / "recipe.yaml");
  EXPECT_NE(recipe.find("pad_to: 4"), std::string::npos) << recipe;

  // `slices` splits each round's files by how many digits the sum has; its counts add up to
  // the round's, and at 4 digits every sum has 4 or 5.
  res = run_mindgap("slices " + run.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  std::map<int, std::map<std::string, int>> totals;
  std::istringstream lines(mg::fs::read_file(scratch / "stdout.txt"));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    auto& t = totals[j["round"].get<int>()];
    for (const char* k : {"prompts", "samples", "kept", "kept_right"}) t[k] += j[k].get<int>();
    if (j["round"] == 2) EXPECT_TRUE(j["slice"] == "4-digit result" || j["slice"] == "5-digit result") << line;
  }
  ASSERT_EQ(totals.size(), 2u) << mg::fs::read_file(scratch / "stdout.txt");
  for (int r = 1; r <= 2; ++r) {
    auto dir = run / ("round-000" + std::to_string(r));
    auto samples = mg::read_samples(dir / "scored.jsonl");
    auto kept = mg::read_kept(dir / "kept.jsonl");
    std::set<int> prompts;
    std::map<std::pair<int, int>, bool> right;
    for (const auto& x : samples) {
      prompts.insert(x.prompt);
      right[{x.prompt, x.sample}] = x.correct;
    }
    int kept_right = 0;
    for (const auto& k : kept) kept_right += right.at({k.prompt, k.sample});
    EXPECT_EQ(totals[r]["prompts"], static_cast<int>(prompts.size())) << "round " << r;
    EXPECT_EQ(totals[r]["samples"], static_cast<int>(samples.size())) << "round " << r;
    EXPECT_EQ(totals[r]["kept"], static_cast<int>(kept.size())) << "round " << r;
    EXPECT_EQ(totals[r]["kept_right"], kept_right) << "round " << r;
  }
  res = run_mindgap("slices " + run.string() + " --round 3", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("--round 3"), std::string::npos) << res.err;
  res = run_mindgap("slices " + run.string() + " --round 0", scratch);
  EXPECT_EQ(res.code, 2) << "round 0 is the pretraining, with nothing kept: " << res.err;
  res = run_mindgap("slices " + run.string() + " --round 2", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::fs::read_file(scratch / "stdout.txt").find("\"round\":1,"), std::string::npos) << "only round 2";
}

// improve.distill.accumulate: a round distils on its own kept samples and on every earlier
// round's, each with its prompt and answer as that round kept them; without it, on its own.
TEST_F(LoopE2E, AccumulateTrainsOnEveryEarlierRoundsKeptSamples) {
  auto run = scratch / "accumulate";
  auto res = run_mindgap("run " + micro_recipe() + " run.dir=" + run.string() + " improve.distill.accumulate=true", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto ctx = mg::open_existing_run(run.string());
  ASSERT_TRUE(ctx.recipe.improve.distill.accumulate);
  std::vector<mg::DistillExample> want;
  for (int r = 1; r <= 2; ++r) {
    auto dir = run / ("round-000" + std::to_string(r));
    auto prompts = mg::prompt_texts(mg::round_problems(ctx, r));
    auto samples = mg::read_samples(dir / "scored.jsonl");
    auto kept = mg::read_kept(dir / "kept.jsonl");
    ASSERT_FALSE(kept.empty());
    for (const auto& k : kept)
      for (const auto& s : samples)
        if (s.prompt == k.prompt && s.sample == k.sample) want.push_back({{prompts[k.prompt], s.answer}, k.weight});
  }
  // Round 3 (not run) with nothing kept of its own: exactly what rounds 1 and 2 kept.
  auto got = mg::distill_examples(ctx, 3, {}, {}, {});
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].problem.prompt, want[i].problem.prompt) << i;
    EXPECT_EQ(got[i].problem.answer, want[i].problem.answer) << i;
    EXPECT_DOUBLE_EQ(got[i].weight, want[i].weight) << i;
  }
  ctx.recipe.improve.distill.accumulate = false;
  EXPECT_TRUE(mg::distill_examples(ctx, 3, {}, {}, {}).empty());
  // An earlier round with a changed or missing kept set is named, not trained on or skipped.
  ctx.recipe.improve.distill.accumulate = true;
  auto fails_naming = [&](const std::string& what) {
    try {
      mg::distill_examples(ctx, 3, {}, {}, {});
      ADD_FAILURE() << "no error, expected one naming " << what;
    } catch (const mg::Error& e) {
      EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  std::ofstream(run / "round-0002" / "kept.jsonl", std::ios::app) << "{\"prompt\": 0, \"sample\": 0, \"weight\": 9}\n";
  fails_naming("kept.jsonl");
  fs::remove(run / "round-0001" / "kept.jsonl");
  fails_naming("round-0001/kept.jsonl");
}

// filter.fallback check: a prompt none of whose samples passed trains on the check's most-voted
// answer when its share reaches the threshold. Greedy sampling makes a micro model's split chains
// agree with each other and not with its samples, so the filter falls back on some. The gap and
// the kept count stay the samples'; the check's answers trained on are counted beside them,
// accumulated, and a run killed at the verify and filter boundaries resumes bit-identically.
TEST_F(LoopE2E, FallbackTrainsOnTheChecksAnswerWhereNoSamplePassed) {
  const std::string fallback = " improve.verify.method=equivalent improve.verify.split=2 improve.filter.method=threshold"
                               " improve.filter.fallback=check improve.distill.accumulate=true"
                               " improve.sampling.temperature=0";
  auto straight = scratch / "fallback", broken = scratch / "fallback_broken";
  auto res = run_mindgap("run " + micro_recipe() + fallback + " run.dir=" + straight.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto ctx = mg::open_existing_run(straight.string());
  auto rounds = rounds_of(straight);
  ASSERT_EQ(rounds.size(), 2u);
  int fallback_total = 0;
  std::vector<mg::DistillExample> want;
  for (int r = 1; r <= 2; ++r) {
    auto dir = straight / ("round-000" + std::to_string(r));
    const auto& record = rounds[r - 1];
    auto prompts = mg::prompt_texts(mg::round_problems(ctx, r));
    // The check's answers are rows of scored.jsonl, each the candidate after its prompt's samples.
    const auto scored = mg::split_candidates(mg::read_samples(dir / "scored.jsonl"));
    const auto& samples = scored.samples;
    const auto& answers = scored.check;
    const int n = ctx.recipe.improve.samples_per_prompt;
    auto kept = mg::read_kept(dir / "kept.jsonl");
    std::map<int, mg::ScoredSample> answer_of;
    for (const auto& x : samples) EXPECT_LT(x.sample, n);
    for (const auto& a : answers) {
      EXPECT_EQ(a.sample, n);
      EXPECT_EQ(a.correct, ctx.task->grade(prompts.at(a.prompt), a.answer)) << "graded for the metrics";
      answer_of[a.prompt] = a;
    }
    std::set<int> kept_a_sample;
    int from_samples = 0, fallbacks = 0, fallback_right = 0;
    for (const auto& k : kept) {
      if (k.sample < n) {
        kept_a_sample.insert(k.prompt);
        ++from_samples;
      }
    }
    for (const auto& k : kept) {
      if (k.sample < n) {
        for (const auto& x : samples)
          if (x.prompt == k.prompt && x.sample == k.sample) want.push_back({{prompts[k.prompt], x.answer}, k.weight});
        continue;
      }
      ++fallbacks;
      EXPECT_FALSE(kept_a_sample.count(k.prompt)) << "round " << r << ": prompt " << k.prompt << " kept a sample";
      ASSERT_TRUE(answer_of.count(k.prompt));
      EXPECT_GE(answer_of[k.prompt].score, ctx.recipe.improve.filter.threshold);
      fallback_right += answer_of[k.prompt].correct;
      want.push_back({{prompts[k.prompt], answer_of[k.prompt].answer}, 1.0});
    }
    EXPECT_EQ(record["fallback_answers"].get<int>(), fallbacks) << "round " << r;
    int passed = 0;
    for (const auto& x : samples) passed += x.score >= ctx.recipe.improve.filter.threshold;
    EXPECT_EQ(record["kept"].get<int>(), passed) << "round " << r << ": kept counts samples only";
    EXPECT_LE(from_samples, passed);
    if (fallbacks > 0) EXPECT_DOUBLE_EQ(record["fallback_precision"].get<double>(), double(fallback_right) / fallbacks);
    else EXPECT_TRUE(record["fallback_precision"].is_null());
    fallback_total += fallbacks;
  }
  ASSERT_GT(fallback_total, 0) << "the test must reach a fallback answer";
  // `slices` counts the check's answers trained on apart from the kept samples, adding up to the rounds'.
  res = run_mindgap("slices " + straight.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  int sliced = 0;
  std::istringstream lines(mg::fs::read_file(scratch / "stdout.txt"));
  for (std::string line; std::getline(lines, line);) sliced += nlohmann::json::parse(line)["fallback"].get<int>();
  EXPECT_EQ(sliced, fallback_total);
  // `gap` on round 0 measures what round 1 measured, the fallback answers included.
  res = run_mindgap("gap " + straight.string() + " --round 0", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto offline = nlohmann::json::parse(mg::fs::read_file(scratch / "stdout.txt"));
  for (const char* key : {"fallback_answers", "fallback_precision", "kept", "gap"}) EXPECT_EQ(offline[key], rounds[0][key]) << key;
  EXPECT_NE(res.err.find("fallback"), std::string::npos) << "the table shows them: " << res.err;
  // With accumulate, a later round trains on every earlier round's kept samples and fallback answers.
  auto got = mg::distill_examples(ctx, 3, {}, {}, {});
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].problem.prompt, want[i].problem.prompt) << i;
    EXPECT_EQ(got[i].problem.answer, want[i].problem.answer) << i;
  }
  // A run directory of format 1 (the check's answers in check_answers.jsonl) is refused by a
  // reader and by a writer, naming the file and the format, with nothing changed on disk.
  auto old = scratch / "fallback_format1";
  fs::copy(straight, old, fs::copy_options::recursive);
  std::ofstream(old / "round-0001" / "check_answers.jsonl")
      << "{\"answer\":\"12\",\"correct\":true,\"prompt\":0,\"sample\":-1,\"score\":0.5}\n";
  const std::string metrics_before = mg::fs::read_file(old / "metrics.jsonl");
  for (const std::string& cmd : {"slices " + old.string(),
                                 "run " + micro_recipe() + fallback + " improve.rounds=3 run.dir=" + old.string()}) {
    res = run_mindgap(cmd, scratch);
    EXPECT_EQ(res.code, 2) << cmd << ": " << res.err;
    EXPECT_NE(res.err.find("round-0001/check_answers.jsonl"), std::string::npos) << res.err;
    EXPECT_NE(res.err.find("run-directory format 1"), std::string::npos) << res.err;
  }
  EXPECT_FALSE(fs::exists(old / "round-0003.tmp"));
  EXPECT_EQ(mg::fs::read_file(old / "metrics.jsonl"), metrics_before);

  for (const char* stop : {"1:verify", "1:filter", "2:verify"}) {
    res = run_mindgap("run " + micro_recipe() + fallback + " run.dir=" + broken.string(), scratch,
                      std::string("MINDGAP_STOP_AFTER=") + stop);
    ASSERT_EQ(res.code, 75) << stop << ": " << res.err;
  }
  res = run_mindgap("run " + micro_recipe() + fallback + " run.dir=" + broken.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  for (const char* name : {"round-0001", "round-0002"})
    EXPECT_EQ(mg::fs::read_file(broken / name / "model.safetensors"),
              mg::fs::read_file(straight / name / "model.safetensors"))
        << name;
}

// pretrain.stop_at_greedy ends pretraining at the first eval that reaches it (0: the first).
TEST_F(LoopE2E, PretrainStopsAtGreedyTarget) {
  auto run = scratch / "early";
  auto res = run_mindgap("pretrain " + micro_recipe() + " run.dir=" + run.string() +
                             " pretrain.stop_at_greedy=0 pretrain.eval_every=4",
                         scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto state = nlohmann::json::parse(mg::fs::read_file(run / "round-0000" / "state.json"));
  EXPECT_EQ(state["step"], 4);
  EXPECT_NE(res.err.find("pretraining stops at step 4"), std::string::npos) << res.err;
  int steps_logged = 0;
  for (const auto& m : mg::read_metrics(run / "metrics.jsonl"))
    if (m.value("kind", "") == "pretrain_step") ++steps_logged;
  EXPECT_EQ(steps_logged, 1) << "log_every 4: one step record, then the stop";
}

TEST_F(LoopE2E, CorruptNewestRoundFallsBackAndOfflineCommandsWork) {
  auto run = scratch / "run";
  ASSERT_EQ(run_mindgap("run " + micro_recipe() + " run.dir=" + run.string() + " improve.rounds=1", scratch).code, 0);
  auto res = run_mindgap("gap " + run.string() + " improve.verify.method=consistency", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  res = run_mindgap("eval " + run.string() + " --round 0", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  res = run_mindgap("sample " + run.string() + " --prompt 12+34= --best-of 4", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  res = run_mindgap("compare " + run.string() + " --png " + (scratch / "c.png").string(), scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  // Flip a byte of the newest weights: eval of that round is refused with the cause named.
  auto weights = run / "round-0001" / "model.safetensors";
  std::string bytes = mg::fs::read_file(weights);
  bytes[bytes.size() / 2] ^= 0x5A;
  std::ofstream(weights, std::ios::binary) << bytes;
  res = run_mindgap("eval " + run.string() + " --round 1", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("model.safetensors"), std::string::npos) << res.err;
  // The newest good round is now round 0: eval without --round uses it.
  res = run_mindgap("eval " + run.string(), scratch);
  EXPECT_EQ(res.code, 0) << res.err;
}

// improve.pass_at: pass@k of round-0000 and of every round's model on held-out prompts, from
// samples drawn for the measurement only: the weights are those of a run that measures none.
TEST_F(LoopE2E, PassAtIsMeasuredPerRoundAndNeverTrainedOn) {
  const std::string recipe = mg::test::source_dir() + "/tests/data/learn_formats.yaml";
  const std::string common = " pretrain.steps=300 improve.rounds=2 improve.prompts_per_round=16"
                             " improve.samples_per_prompt=4 improve.pass_k=4 improve.distill.steps=5"
                             " improve.distill.batch=16";
  const fs::path measured = scratch / "measured", plain = scratch / "plain";
  auto res = run_mindgap("run " + recipe + " run.dir=" + measured.string() + common +
                             " improve.pass_at=[1,4,16] improve.pass_at_prompts=24", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  ASSERT_EQ(run_mindgap("run " + recipe + " run.dir=" + plain.string() + common, scratch).code, 0);
  std::vector<nlohmann::json> measures;
  for (const auto& r : mg::read_metrics(measured / "metrics.jsonl"))
    if (r.contains("pass_at")) measures.push_back(r);
  ASSERT_EQ(measures.size(), 3u);  // pretraining's final eval, rounds 1 and 2
  EXPECT_EQ(measures[0]["kind"], "eval");
  for (const auto& m : measures) {
    const auto& p = m["pass_at"];
    ASSERT_EQ(p.size(), 3u) << m.dump();
    EXPECT_GT(p["1"].get<double>(), 0.0) << m.dump();
    EXPECT_LE(p["1"].get<double>(), p["4"].get<double>()) << m.dump();
    EXPECT_LE(p["4"].get<double>(), p["16"].get<double>()) << m.dump();
    EXPECT_LE(p["16"].get<double>(), 1.0) << m.dump();
  }
  auto state = nlohmann::json::parse(mg::fs::read_file(measured / "round-0000" / "state.json"));
  EXPECT_EQ(state["pass_at"], measures[0]["pass_at"]);
  for (const char* round : {"round-0000", "round-0002"})
    EXPECT_EQ(mg::fs::read_file(measured / round / "model.safetensors"), mg::fs::read_file(plain / round / "model.safetensors"))
        << round << ": the measurement's samples changed the training";
  for (const auto& r : mg::read_metrics(plain / "metrics.jsonl")) EXPECT_FALSE(r.contains("pass_at"));
}
