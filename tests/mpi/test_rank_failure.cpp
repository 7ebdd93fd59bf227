// A rank that fails must end the whole job, with a message naming it, instead of leaving the
// other ranks in a collective. Run under `mpirun -np 2` by ctest like the other MPI tests:
// rank 0 launches its own `mpirun -np 2` jobs of this binary in helper mode, in which rank 1
// fails (or hangs, alive) while rank 0 waits in a collective; the other outer rank has
// nothing to do.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/sanitizer_defaults.h"  // this binary's main is here, not in tests/test_main.cpp
#include "core/distributed/communicator.h"
#include "core/errors.h"
#include "core/runtime.h"

extern char** environ;

namespace {

constexpr const char* kHelperFlag = "--failure-helper=";

// Helper mode "unwind": rank 1 throws past its communicator into main, without run_or_abort.
int run_unwind_helper() {
  try {
    auto comm = mg::make_communicator(mg::discover_ranks(), torch::Device(torch::kCPU));
    comm->barrier();
    if (comm->rank() == 1) mg::fail_internal("deliberate unwinding failure (test)");
    auto t = torch::ones({4});
    comm->all_reduce_sum(t);
    comm->barrier();
  } catch (const mg::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  }
  std::printf("helper finished normally\n");
  return 0;
}

// Collectives give up after this long in the "stuck" modes.
constexpr double kStuckTimeoutS = 2;

// Helper modes "stuck" and "stuck_async": rank 1 is alive but does not join a collective for
// far longer than the timeout; rank 0's collective must give up and end the job.
int run_stuck_helper(const std::string& mode) {
  auto comm = mg::make_communicator(mg::discover_ranks(), torch::Device(torch::kCPU), kStuckTimeoutS);
  mg::run_or_abort(*comm, [&] {
    comm->barrier();
    if (comm->rank() == 1) std::this_thread::sleep_for(std::chrono::seconds(60));
    auto t = torch::ones({4});
    if (mode == "stuck_async") comm->all_reduce_sum_async(t)->wait();
    else comm->all_reduce_sum(t);
  });
  std::printf("helper rank %d finished normally\n", comm->rank());
  return 0;
}

// Helper mode: the job whose rank 1 fails in the way `mode` names.
int run_helper(const std::string& mode) {
  mg::set_threads(1);
  if (mode == "unwind") return run_unwind_helper();
  if (mode.rfind("stuck", 0) == 0) return run_stuck_helper(mode);
  auto comm = mg::make_communicator(mg::discover_ranks(), torch::Device(torch::kCPU));
  mg::run_or_abort(*comm, [&] {
    comm->barrier();
    if (comm->rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // rank 0 is in the collective by now
      if (mode == "throw") mg::fail_input("deliberate failure (test)");
      if (mode == "sigkill") std::raise(SIGKILL);
    }
    if (mode == "agree") comm->agree(comm->rank() != 1, "deliberate stage");
    auto t = torch::ones({4});
    comm->all_reduce_sum(t);  // rank 0 waits here for a rank that will never come
    comm->barrier();
  });
  std::printf("helper rank %d finished normally\n", comm->rank());
  return 0;
}

struct JobResult {
  int status = -1;
  double seconds = 0;
  std::string output;
};

// Launches a fresh `mpirun -np 2` of this binary in helper mode, with a hard time limit.
JobResult launch(const std::string& mode) {
  // The nested job must not think it belongs to the outer mpirun.
  std::vector<std::string> inherited;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('='));
    for (const char* prefix : {"OMPI_", "PMIX_", "OPAL_", "ORTE_"})
      if (name.rfind(prefix, 0) == 0) inherited.push_back(name);
  }
  for (auto& name : inherited) ::unsetenv(name.c_str());
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);

  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return {};
  self[n] = '\0';
  // `timeout` guards the test itself: a hang shows up as status 124 after 90 s (mpirun's own
  // status is 128 + the signal when a rank was killed, so 137 means SIGKILL of a rank).
  std::string cmd = "timeout -k 5 90 mpirun -np 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS=1 "
                    "-x OMP_WAIT_POLICY=PASSIVE '" + std::string(self) + "' " + kHelperFlag + mode + " 2>&1";
  auto start = std::chrono::steady_clock::now();
  JobResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, got);
  int status = ::pclose(pipe);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Launches the helper job in `mode` and checks that it ended, non-zero and within
// `within_s` seconds, with every one of `mentions` in its output.
void expect_job_ended(const std::string& mode, const std::vector<std::string>& mentions, double within_s = 60) {
  auto r = launch(mode);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the job hung:\n" << r.output;
  EXPECT_LT(r.seconds, within_s) << r.output;
  for (auto& m : mentions) EXPECT_NE(r.output.find(m), std::string::npos) << "no '" << m << "' in:\n" << r.output;
  EXPECT_EQ(r.output.find("finished normally"), std::string::npos) << r.output;
  std::printf("%s: job ended in %.1f s with status %d\n", mode.c_str(), r.seconds, r.status);
}

TEST(RankFailure, ThrowingRankEndsTheJob) {
  // Open MPI's own "MPI_ABORT was invoked on rank 1" notice is sometimes lost (its help
  // system races with the kill), so the test relies on our line only.
  expect_job_ended("throw", {"rank 1 of 2 failed: deliberate failure (test)"});
}

TEST(RankFailure, KilledRankEndsTheJob) { expect_job_ended("sigkill", {"rank 1"}); }

TEST(RankFailure, FailedAgreementEndsEveryRank) {
  expect_job_ended("agree", {"deliberate stage: failed on rank 1"});
}

TEST(RankFailure, ExceptionPastTheCommunicatorEndsTheJob) {
  expect_job_ended("unwind", {"rank 1 of 2 is leaving with an exception in flight"});
}

TEST(RankFailure, StuckRankTimesOutTheCollective) {
  // Rank 1 sleeps for 60 s: the job ends long before, through rank 0's timeout.
  expect_job_ended("stuck", {"rank 0 of 2 failed: rank 0: all_reduce_sum timed out after 2 s", "run.dist_timeout_s"},
                   10);
}

TEST(RankFailure, StuckRankTimesOutTheAsyncCollective) {
  expect_job_ended("stuck_async", {"rank 0: all_reduce_sum timed out after 2 s"}, 10);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(kHelperFlag, 0) == 0) return run_helper(arg.substr(std::string(kHelperFlag).size()));
  }
  // Under the outer mpirun only its rank 0 launches the jobs.
  const char* outer_rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (outer_rank != nullptr && std::string(outer_rank) != "0") return 0;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
