// Reliability of a run directory through the real binary: one writer at a time (the lock),
// SIGINT/SIGTERM stopping at a safe point and resuming bit-identically, non-finite training
// numbers, divergence refused without labels, and metrics.jsonl holding each row once
// whatever was killed where.
#include "test_paths.h"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>

#include "core/errors.h"
#include "core/report/metrics.h"
#include "core/run/run_lock.h"
#include "tests/cli_runner.h"
#include "trainers/stages/distill.h"
#include "trainers/training/train_step.h"

namespace fs = std::filesystem;
using mg::testing::micro_recipe;
using mg::testing::run_mindgap;
using Clock = std::chrono::steady_clock;

namespace {

class Reliability : public ::testing::Test {
 protected:
  void SetUp() override { scratch = mg::testing::scratch_dir("reliability"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(scratch);
  }
  fs::path scratch;
};

// `mindgap <args>` started in the background; its pid is mindgap's own (exec, no shell left).
pid_t start_mindgap(const std::string& args, const fs::path& scratch, const std::string& tag) {
  std::string cmd = "exec " + mg::test::binary_dir() + "/mindgap " + args + " > " +
                    (scratch / (tag + ".out")).string() + " 2> " + (scratch / (tag + ".err")).string();
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The exit code of a background mindgap (128 + signal when a signal ended it).
int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits until `ready` holds or the process has ended; false on timeout or early end.
template <class F>
bool wait_until(pid_t pid, F ready, double seconds = 120) {
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    if (ready()) return true;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string weights(const fs::path& run, int round) {
  char name[32];
  std::snprintf(name, sizeof name, "round-%04d", round);
  return mg::fs::read_file(run / name / "model.safetensors");
}

// (kind, round, step) of every row: the identity a row must not repeat.
std::multiset<std::string> row_keys(const fs::path& run) {
  std::multiset<std::string> out;
  for (const auto& r : mg::read_metrics(run / "metrics.jsonl"))
    out.insert(r.value("kind", "") + "/" + std::to_string(r.value("round", 0)) + "/" + std::to_string(r.value("step", 0)));
  return out;
}

}  // namespace

TEST_F(Reliability, LockRefusesASecondHolderNamingTheFirst) {
  auto dir = scratch / "run";
  auto lock = std::make_unique<mg::RunLock>(dir);
  EXPECT_TRUE(mg::run_lock_held(dir));
  try {
    mg::RunLock second(dir);
    FAIL() << "a second lock on the same directory was granted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(getpid())), std::string::npos) << e.what();
  }
  lock.reset();
  EXPECT_FALSE(mg::run_lock_held(dir));
  EXPECT_NO_THROW(mg::RunLock again(dir));
}

// A second writer is refused at once (exit 2, the holder's pid named) while a reader runs
// beside the writer; after kill -9 of the writer the lock is free and the run resumes.
TEST_F(Reliability, SecondWriterRefusedReaderAllowedKillFreesTheLock) {
  auto run = scratch / "run";
  // Long distillation: the writer sits in round 1 after committing round 0.
  const std::string args = "run " + micro_recipe() + " run.dir=" + run.string();
  pid_t writer = start_mindgap(args + " improve.distill.steps=100000", scratch, "writer");
  ASSERT_TRUE(wait_until(writer, [&] { return fs::exists(run / "round-0001.tmp" / "kept.jsonl"); }))
      << mg::fs::read_file(scratch / "writer.err");
  ASSERT_TRUE(mg::run_lock_held(run));

  auto t0 = Clock::now();
  auto second = run_mindgap(args + " improve.distill.steps=100000", scratch);
  EXPECT_EQ(second.code, 2) << second.err;
  EXPECT_NE(second.err.find("pid " + std::to_string(writer)), std::string::npos) << second.err;
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 30.0) << "refused at once, not after waiting";
  auto reader = run_mindgap("eval " + run.string() + " --round 0", scratch);
  EXPECT_EQ(reader.code, 0) << "a reader takes no lock: " << reader.err;

  kill(writer, SIGKILL);
  EXPECT_EQ(wait_exit(writer), 128 + SIGKILL);
  EXPECT_FALSE(mg::run_lock_held(run)) << "kill -9 must leave no stale lock";
  EXPECT_NO_THROW(mg::RunLock next(run));
}

// SIGTERM or SIGINT mid-stage: exit 143 / 130 at the next safe point, the resume message, and
// the resumed run ends on the same weights as an uninterrupted one.
TEST_F(Reliability, SignalsStopAtASafePointAndResumeBitIdentical) {
  auto straight = scratch / "straight", broken = scratch / "broken";
  const std::string every = " pretrain.eval_every=4";
  ASSERT_EQ(run_mindgap("run " + micro_recipe() + every + " run.dir=" + straight.string(), scratch).code, 0);
  const std::string args = "run " + micro_recipe() + every + " run.dir=" + broken.string();
  struct Case { const char* at; int code; const char* name; };
  // In the order a run reaches them: each resumes the previous one's stop.
  for (const Case& c : {Case{"0:log8:INT", 130, "SIGINT"}, Case{"1:generate", 143, "SIGTERM"},
                        Case{"1:distill2", 143, "SIGTERM"}, Case{"2:distill3:INT", 130, "SIGINT"}}) {
    auto res = run_mindgap(args, scratch, std::string("MINDGAP_SIGNAL_AFTER=") + c.at);
    EXPECT_EQ(res.code, c.code) << c.at << ": " << res.err;
    EXPECT_NE(res.err.find(std::string("stopped: ") + c.name), std::string::npos) << c.at << ": " << res.err;
    EXPECT_NE(res.err.find("resumes"), std::string::npos) << res.err;
    EXPECT_FALSE(mg::run_lock_held(broken));
  }
  auto res = run_mindgap(args, scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  for (int r = 0; r <= 2; ++r) EXPECT_EQ(weights(broken, r), weights(straight, r)) << "round " << r;
  EXPECT_EQ(row_keys(broken), row_keys(straight));
}

// A real SIGTERM from outside, mid-distillation: the process ends within seconds with 143.
TEST_F(Reliability, ExternalSigtermEndsWithinSeconds) {
  auto run = scratch / "run";
  pid_t pid = start_mindgap("run " + micro_recipe() + " run.dir=" + run.string() + " improve.distill.steps=100000",
                            scratch, "run");
  ASSERT_TRUE(wait_until(pid, [&] { return fs::exists(run / "round-0001.tmp" / "kept.jsonl"); }))
      << mg::fs::read_file(scratch / "run.err");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well inside distillation
  auto t0 = Clock::now();
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit(pid), 143) << mg::fs::read_file(scratch / "run.err");
  const double stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(stop_s, 5.0);
  auto err = mg::fs::read_file(scratch / "run.err");
  EXPECT_NE(err.find("stopped: SIGTERM: stopped in distill, round 1"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(run / "round-0001.tmp" / "model.safetensors")) << "nothing of the cut stage is kept";
  EXPECT_EQ(mg::read_latest(mg::RunDir{run}), 0);
}

TEST(NonFinite, PolicyStopsOrSkips) {
  mg::StepPlace place{"distill", 2, 17};
  EXPECT_TRUE(mg::accept_step(1.5, 0.3, "stop", place));
  EXPECT_FALSE(mg::accept_step(std::nan(""), 0.3, "skip", place));
  EXPECT_FALSE(mg::accept_step(1.5, INFINITY, "skip", place));
  try {
    mg::accept_step(1.5, std::nan(""), "stop", place);
    FAIL() << "a NaN gradient norm was accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_NE(std::string(e.what()).find("distill, round 2, step 17"), std::string::npos) << e.what();
  }
}

// A NaN loss (injected at one step) stops the run naming the place, commits nothing of the
// round; the same run under run.nonfinite=skip resumes, skips that step and counts it.
TEST_F(Reliability, NonFiniteStepStopsOrIsSkippedAndCounted) {
  auto run = scratch / "run";
  const std::string args = "run " + micro_recipe() + " improve.rounds=1 run.dir=" + run.string();
  auto res = run_mindgap(args, scratch, "MINDGAP_NONFINITE_AT=distill:1:2");
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_NE(res.err.find("non-finite training numbers in distill, round 1, step 2"), std::string::npos) << res.err;
  EXPECT_EQ(mg::read_latest(mg::RunDir{run}), 0);
  res = run_mindgap(args + " run.nonfinite=skip", scratch, "MINDGAP_NONFINITE_AT=distill:1:2");
  ASSERT_EQ(res.code, 0) << res.err;
  auto rows = mg::read_metrics(run / "metrics.jsonl");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.back()["distill"]["nonfinite_skipped"], 1);

  auto pre = scratch / "pre";
  res = run_mindgap("pretrain " + micro_recipe() + " run.dir=" + pre.string(), scratch, "MINDGAP_NONFINITE_AT=pretrain:0:5");
  EXPECT_EQ(res.code, 1) << res.err;
  EXPECT_NE(res.err.find("pretrain, round 0, step 5"), std::string::npos) << res.err;
}

TEST(Divergence, RatioOfEndToStartLoss) {
  mg::DistillSummary calm;
  calm.start_loss = 1.0;
  calm.end_loss = 0.6;
  EXPECT_NO_THROW(mg::refuse_divergence(calm, 3.0, 1));
  mg::DistillSummary wild = calm;
  wild.end_loss = 12.0;
  try {
    mg::refuse_divergence(wild, 3.0, 2);
    FAIL() << "a loss 12x its start was accepted";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    const std::string m = e.what();
    EXPECT_NE(m.find("round 2"), std::string::npos) << m;
    EXPECT_NE(m.find("improve.distill.lr"), std::string::npos) << m;
    EXPECT_NE(m.find("improve.distill.max_loss_ratio"), std::string::npos) << m;
  }
  EXPECT_NO_THROW(mg::refuse_divergence(wild, 0.0, 2)) << "0 turns the check off";
  auto back = mg::distill_summary_from(mg::distill_metadata(wild));
  EXPECT_EQ(back.start_loss, wild.start_loss);
  EXPECT_EQ(back.end_loss, wild.end_loss);
}

// Killed at every kind of boundary (a pretraining row past its checkpoint, a checkpoint, a
// stage, a round row written but not committed, a commit), the resumed run's metrics.jsonl
// holds exactly the rows of an uninterrupted run.
TEST_F(Reliability, MetricsRowsAppearOnceWhateverWasKilled) {
  auto straight = scratch / "straight", broken = scratch / "broken";
  const std::string every = " pretrain.eval_every=4";
  ASSERT_EQ(run_mindgap("run " + micro_recipe() + every + " run.dir=" + straight.string(), scratch).code, 0);
  const std::string args = "run " + micro_recipe() + every + " run.dir=" + broken.string();
  // In the order a run reaches them: each resumes the previous one's stop.
  for (const char* stop : {"0:step4", "0:log8", "0:log12", "1:generate", "1:metrics", "1:commit", "2:distill", "2:metrics"}) {
    auto res = run_mindgap(args, scratch, std::string("MINDGAP_STOP_AFTER=") + stop);
    ASSERT_EQ(res.code, 75) << stop << ": " << res.err;
  }
  ASSERT_EQ(run_mindgap(args, scratch).code, 0);
  auto keys = row_keys(broken);
  for (const auto& k : keys) EXPECT_EQ(keys.count(k), 1u) << k << " appears more than once";
  EXPECT_EQ(keys, row_keys(straight));
  EXPECT_EQ(keys.count("round/2/0"), 1u);
}

// A distillation at lr 1 diverges (measured: its loss ends about 7x its first step's): the
// round is refused before it is saved, the run keeps round 0, and the message names the keys.
// Raising the ratio (a key a resume may change) lets the same run go on.
TEST_F(Reliability, DivergingDistillationIsNotCommitted) {
  auto run = scratch / "run";
  const std::string args = "run " + micro_recipe() + " improve.rounds=1 improve.distill.steps=20 improve.distill.lr=1"
                           " run.dir=" + run.string();
  auto res = run_mindgap(args, scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("round 1: distillation diverged"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("improve.distill.max_loss_ratio"), std::string::npos) << res.err;
  EXPECT_EQ(mg::read_latest(mg::RunDir{run}), 0);
  EXPECT_FALSE(fs::exists(run / "round-0001.tmp" / "model.safetensors"));
  for (const auto& r : mg::read_metrics(run / "metrics.jsonl")) EXPECT_NE(r.value("kind", ""), "round");
  res = run_mindgap(args + " improve.distill.max_loss_ratio=0", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::read_latest(mg::RunDir{run}), 1);
}
