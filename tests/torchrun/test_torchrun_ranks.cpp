// CPU ranks over Gloo, launched the ways people launch them: torchrun on one node, torchrun
// on two "nodes" (two agents on the loopback), and an srun-style launch (the SLURM_*
// variables set by hand, rank 0 serving the store). Also: a rank that fails, dies or hangs
// ends the whole job, named, instead of leaving the others in a collective. The test starts
// the jobs itself; each job runs this binary in helper mode.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <torch/torch.h>
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

namespace {

constexpr const char* kHelperFlag = "--helper=";
constexpr double kStuckTimeoutS = 2;

// Helper "collectives": checks every collective against values written for any world size.
int run_collectives(mg::Communicator& comm) {
  int w = comm.world_size(), r = comm.rank();
  auto f = torch::full({5}, static_cast<float>(r + 1));
  comm.all_reduce_sum(f);
  bool ok = torch::equal(f, torch::full({5}, w * (w + 1) / 2.0f));
  int64_t big = (int64_t{1} << 40) + 3;
  auto i = torch::tensor({big + r}, torch::kInt64);
  comm.all_reduce_sum_async(i)->wait();
  ok = ok && i.item<int64_t>() == big * w + int64_t{w} * (w - 1) / 2;
  auto b = torch::full({3}, static_cast<double>(r), torch::kFloat64);
  comm.broadcast(b, w - 1);
  ok = ok && torch::equal(b, torch::full({3}, static_cast<double>(w - 1), torch::kFloat64));
  auto all = comm.all_gather_bytes(std::string(static_cast<size_t>(r), 'x') + std::to_string(r));
  for (int k = 0; k < w; ++k) ok = ok && all.at(k) == std::string(static_cast<size_t>(k), 'x') + std::to_string(k);
  comm.barrier();
  std::printf("rank %d of %d (local %d, %s): collectives %s\n", r, w, mg::discover_ranks().local_rank,
              comm.backend().c_str(), ok ? "ok" : "WRONG");
  std::fflush(stdout);
  return ok ? 0 : 3;
}

int run_helper(const std::string& mode) {
  mg::set_threads(1);
  double timeout = mode == "stuck" ? kStuckTimeoutS : mg::kDefaultDistTimeoutS;
  auto comm = mg::make_communicator(mg::discover_ranks(), torch::Device(torch::kCPU), timeout);
  int code = 0;
  mg::run_or_abort(*comm, [&] {
    if (mode == "collectives") {
      code = run_collectives(*comm);
      return;
    }
    comm->barrier();
    if (comm->rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // rank 0 is in the collective by now
      if (mode == "throw") mg::fail_input("deliberate failure (test)");
      if (mode == "sigkill") std::raise(SIGKILL);
      if (mode == "stuck") std::this_thread::sleep_for(std::chrono::seconds(60));
    }
    auto t = torch::ones({4});
    comm->all_reduce_sum(t);  // rank 0 waits here for a rank that will never come
    comm->barrier();
    std::printf("helper rank %d finished normally\n", comm->rank());
  });
  return code;
}

// A port that was free a moment ago (the kernel picks it).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string self_path() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  return self;
}

// The environment of a job started from the test: no launcher variables of an outer job.
std::string clean_env() {
  std::string out = "env";
  for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "OMPI_COMM_WORLD_RANK",
                        "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_PROCID", "SLURM_STEP_ID",
                        "SLURM_STEPID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID",
                        "SLURM_JOB_NODELIST", "SLURM_STEP_NODELIST", "SLURM_NODELIST", "SLURM_JOB_ID",
                        "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"})
    out += std::string(" -u ") + v;
  return out + " OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE";
}

std::string torchrun(const std::string& args) {
  return clean_env() + " timeout -k 5 90 " + MG_TORCHRUN + " " + args + " --no-python --max-restarts=0 '" +
         self_path() + "'";
}

struct JobResult {
  int status = -1;
  double seconds = 0;
  std::string output;
};

// Runs a shell command with a hard time limit inside it, its stdout and stderr together.
JobResult run(const std::string& cmd) {
  auto start = std::chrono::steady_clock::now();
  JobResult r;
  FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, got);
  int status = ::pclose(pipe);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(TorchrunRanks, OneNodeRunsEveryCollective) {
  auto r = run(torchrun("--standalone --nnodes=1 --nproc_per_node=2") + " " + kHelperFlag + "collectives");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count(r.output, "(local 0, gloo): collectives ok"), 1) << r.output;
  EXPECT_EQ(count(r.output, "(local 1, gloo): collectives ok"), 1) << r.output;
  std::printf("torchrun, 1 node x 2 ranks: %.1f s\n", r.seconds);
}

TEST(TorchrunRanks, TwoNodesOnTheLoopback) {
  // Two agents, as on two machines: node 0 serves the rendezvous at a fixed address and port.
  int port = free_port();
  ASSERT_GT(port, 0);
  std::string common = "--nnodes=2 --nproc_per_node=2 --master_addr=127.0.0.1 --master_port=" + std::to_string(port);
  std::string node1 = torchrun(common + " --node_rank=1") + " " + kHelperFlag + "collectives";
  std::string node0 = torchrun(common + " --node_rank=0") + " " + kHelperFlag + "collectives";
  auto r = run("(" + node1 + " > /dev/stderr & " + node0 + "; s=$?; wait $! || s=$?; exit $s)");
  EXPECT_EQ(r.status, 0) << r.output;
  for (int rank = 0; rank < 4; ++rank)
    EXPECT_EQ(count(r.output, "rank " + std::to_string(rank) + " of 4 (local " + std::to_string(rank % 2) +
                                  ", gloo): collectives ok"),
              1)
        << rank << "\n" << r.output;
  std::printf("torchrun, 2 nodes x 2 ranks on the loopback: %.1f s\n", r.seconds);
}

TEST(TorchrunRanks, SrunStyleLaunchMeetsAtTheFirstNode) {
  // What srun sets for each task, by hand: rank 0 serves the store on the first host of the
  // node list, as no torchrun agent does it.
  int port = free_port();
  ASSERT_GT(port, 0);
  std::string cmd = "(";
  for (int rank : {1, 0}) {
    cmd += clean_env() + " SLURM_JOB_ID=4242 SLURM_STEP_ID=0 SLURM_NTASKS=2 SLURM_PROCID=" + std::to_string(rank) +
           " SLURM_LOCALID=" + std::to_string(rank) + " 'SLURM_JOB_NODELIST=127.0.0.[1-2]' MASTER_PORT=" +
           std::to_string(port) + " timeout -k 5 90 '" + self_path() + "' " + kHelperFlag + "collectives";
    cmd += rank == 1 ? " & " : "; s=$?; wait $! || s=$?; exit $s)";
  }
  auto r = run(cmd);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(count(r.output, "rank 0 of 2 (local 0, gloo): collectives ok"), 1) << r.output;
  EXPECT_EQ(count(r.output, "rank 1 of 2 (local 1, gloo): collectives ok"), 1) << r.output;
}

// Launches the helper job in `mode` and checks that it ended, non-zero and within
// `within_s` seconds, with every one of `mentions` in its output.
void expect_job_ended(const std::string& mode, const std::vector<std::string>& mentions, double within_s = 60) {
  auto r = run(torchrun("--standalone --nnodes=1 --nproc_per_node=2") + " " + kHelperFlag + mode);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_NE(r.status, 124) << "the job hung:\n" << r.output;
  EXPECT_LT(r.seconds, within_s) << r.output;
  for (auto& m : mentions) EXPECT_NE(r.output.find(m), std::string::npos) << "no '" << m << "' in:\n" << r.output;
  EXPECT_EQ(r.output.find("finished normally"), std::string::npos) << r.output;
  std::printf("%s: job ended in %.1f s with status %d\n", mode.c_str(), r.seconds, r.status);
}

TEST(TorchrunRanks, ThrowingRankEndsTheJob) {
  expect_job_ended("throw", {"rank 1 of 2 failed: deliberate failure (test)"});
}

// torchrun's summary names the rank that died by a signal.
TEST(TorchrunRanks, KilledRankEndsTheJob) { expect_job_ended("sigkill", {"rank      : 1", "Signal 9"}); }

TEST(TorchrunRanks, StuckRankTimesOutTheCollective) {
  // Rank 1 sleeps for 60 s: the job ends long before, through rank 0's timeout.
  expect_job_ended("stuck", {"rank 0 of 2 failed: rank 0: all_reduce_sum timed out after 2 s"}, 20);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind(kHelperFlag, 0) == 0) {
      try {
        return run_helper(arg.substr(std::string(kHelperFlag).size()));
      } catch (const mg::Error& e) {  // before the communicator exists: no job to end
        std::fprintf(stderr, "error: %s\n", e.what());
        return e.exit_code();
      }
    }
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
