// Rank discovery from launcher variables, set and unset in-process and restored afterwards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "core/distributed/communicator.h"
#include "core/distributed/hostlist.h"
#include "core/distributed/rank_env.h"
#include "core/errors.h"

namespace {

const char* const kVars[] = {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                             "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                             "SLURM_PROCID", "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID",
                             "SLURM_STEP_ID", "SLURM_STEPID", "SLURM_JOB_ID", "SLURM_JOBID",
                             "SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST"};

// Clears every launcher variable for one test and puts the originals back after it.
class RankEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* old = std::getenv(v);
      saved_[v] = old ? std::optional<std::string>(old) : std::nullopt;
      ::unsetenv(v);
    }
  }
  void TearDown() override {
    for (auto& [name, value] : saved_) {
      if (value) ::setenv(name.c_str(), value->c_str(), 1);
      else ::unsetenv(name.c_str());
    }
  }
  static void set(const char* name, const char* value) { ::setenv(name, value, 1); }

  // The message of the BadInput error discover_ranks throws ("" if it does not throw).
  static std::string bad_input_message() {
    try {
      mg::discover_ranks();
    } catch (const mg::Error& e) {
      EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
      return e.what();
    }
    return "";
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST_F(RankEnv, NoVariablesMeansSingleProcess) {
  auto info = mg::discover_ranks();
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(info.local_rank, 0);
  EXPECT_EQ(info.launcher, "single");
}

TEST_F(RankEnv, OpenMpiVariables) {
  set("OMPI_COMM_WORLD_RANK", "3");
  set("OMPI_COMM_WORLD_SIZE", "4");
  set("OMPI_COMM_WORLD_LOCAL_RANK", "1");
  auto info = mg::discover_ranks();
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.launcher, "mpirun");
}

TEST_F(RankEnv, OpenMpiWinsOverTorchrunVariables) {
  set("OMPI_COMM_WORLD_RANK", "1");
  set("OMPI_COMM_WORLD_SIZE", "2");
  set("RANK", "5");
  set("WORLD_SIZE", "8");
  auto info = mg::discover_ranks();
  EXPECT_EQ(info.launcher, "mpirun");
  EXPECT_EQ(info.rank, 1);
  EXPECT_EQ(info.world_size, 2);
  EXPECT_EQ(info.local_rank, 0);
}

TEST_F(RankEnv, TorchrunVariables) {
  set("RANK", "5");
  set("WORLD_SIZE", "8");
  set("LOCAL_RANK", "1");
  set("MASTER_ADDR", "node-0");
  set("MASTER_PORT", "29500");
  auto info = mg::discover_ranks();
  EXPECT_EQ(info.launcher, "torchrun");
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master_addr, "node-0");
  EXPECT_EQ(info.master_port, 29500);
}

TEST_F(RankEnv, MalformedValuesNameTheVariable) {
  set("OMPI_COMM_WORLD_RANK", "1x");
  set("OMPI_COMM_WORLD_SIZE", "2");
  EXPECT_NE(bad_input_message().find("OMPI_COMM_WORLD_RANK"), std::string::npos);

  set("OMPI_COMM_WORLD_RANK", "2");  // rank must be below the size
  EXPECT_NE(bad_input_message().find("OMPI_COMM_WORLD_RANK"), std::string::npos);

  set("OMPI_COMM_WORLD_RANK", "0");
  set("OMPI_COMM_WORLD_LOCAL_RANK", "-1");
  EXPECT_NE(bad_input_message().find("OMPI_COMM_WORLD_LOCAL_RANK"), std::string::npos);
}

TEST_F(RankEnv, MalformedTorchrunValuesNameTheVariable) {
  set("RANK", "0");
  set("WORLD_SIZE", "");
  EXPECT_NE(bad_input_message().find("WORLD_SIZE"), std::string::npos);

  set("WORLD_SIZE", "0");
  EXPECT_NE(bad_input_message().find("WORLD_SIZE"), std::string::npos);

  set("WORLD_SIZE", "2");
  set("MASTER_PORT", "70000");
  EXPECT_NE(bad_input_message().find("MASTER_PORT"), std::string::npos);

  set("MASTER_PORT", "29500");
  set("LOCAL_RANK", " 1");
  EXPECT_NE(bad_input_message().find("LOCAL_RANK"), std::string::npos);
}

TEST_F(RankEnv, MissingPartnerVariableIsNamed) {
  set("WORLD_SIZE", "2");
  EXPECT_NE(bad_input_message().find("RANK is not set"), std::string::npos);
  ::unsetenv("WORLD_SIZE");
  set("OMPI_COMM_WORLD_RANK", "0");
  EXPECT_NE(bad_input_message().find("OMPI_COMM_WORLD_SIZE is not set"), std::string::npos);
}

TEST_F(RankEnv, SingleProcessCommunicator) {
  auto comm = mg::make_communicator(mg::discover_ranks(), torch::Device(torch::kCPU));
  EXPECT_EQ(comm->backend(), "single");
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->world_size(), 1);
  auto t = torch::tensor({1.0, 2.0});
  comm->all_reduce_mean(t);
  EXPECT_TRUE(torch::equal(t, torch::tensor({1.0, 2.0})));
  EXPECT_EQ(comm->all_gather_bytes("abc"), std::vector<std::string>{"abc"});
  EXPECT_NO_THROW(comm->agree(true, "stage"));
  try {
    comm->agree(false, "stage");
    ADD_FAILURE() << "agree(false) did not throw";
  } catch (const mg::Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0"), std::string::npos) << e.what();
  }
}

// CPU ranks of torchrun (and srun) communicate over Gloo, meeting at MASTER_ADDR:MASTER_PORT.
TEST_F(RankEnv, CpuRanksFromTorchrunNeedGlooAndARendezvous) {
  mg::RankInfo info;
  info.rank = 0;
  info.world_size = 2;
  info.launcher = "torchrun";
  try {
    mg::make_communicator(info, torch::Device(torch::kCPU));
    ADD_FAILURE() << "no error";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
#ifdef MINDGAP_HAVE_GLOO
    EXPECT_NE(std::string(e.what()).find("MASTER_ADDR"), std::string::npos) << e.what();
#else
    EXPECT_NE(std::string(e.what()).find("Gloo"), std::string::npos) << e.what();
#endif
  }
}

// What srun sets for task 5 of an 8-task step of a 16-task job spread over node01..node07.
void set_srun_task(const char* procid = "5") {
  ::setenv("SLURM_JOB_ID", "123456", 1);
  ::setenv("SLURM_STEP_ID", "0", 1);
  ::setenv("SLURM_PROCID", procid, 1);
  ::setenv("SLURM_NTASKS", "16", 1);
  ::setenv("SLURM_STEP_NUM_TASKS", "8", 1);
  ::setenv("SLURM_LOCALID", "1", 1);
  ::setenv("SLURM_JOB_NODELIST", "node[01-04,07]", 1);
}

TEST_F(RankEnv, SrunTaskVariables) {
  set_srun_task();
  auto info = mg::discover_ranks();
  EXPECT_EQ(info.launcher, "srun");
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 8);  // the step's tasks, not the job's
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.master_addr, "node01");
  EXPECT_EQ(info.master_port, 10000 + 10 * (123456 % 2000));
  EXPECT_EQ(info.master_port, mg::slurm_default_port(123456, 0));
}

TEST_F(RankEnv, SrunPrefersTheStepNodesAndExplicitRendezvous) {
  set_srun_task();
  ::unsetenv("SLURM_STEP_NUM_TASKS");
  set("SLURM_NTASKS", "6");
  set("SLURM_STEP_NODELIST", "node[03-04]");
  set("SLURM_STEP_ID", "3");
  auto info = mg::discover_ranks();
  EXPECT_EQ(info.world_size, 6);
  EXPECT_EQ(info.master_addr, "node03");
  EXPECT_EQ(info.master_port, mg::slurm_default_port(123456, 3));
  set("MASTER_ADDR", "10.1.2.3");
  set("MASTER_PORT", "29500");
  info = mg::discover_ranks();
  EXPECT_EQ(info.master_addr, "10.1.2.3");
  EXPECT_EQ(info.master_port, 29500);
}

TEST_F(RankEnv, SrunDefaultPortStaysInItsRange) {
  EXPECT_EQ(mg::slurm_default_port(0, 0), 10000);
  EXPECT_EQ(mg::slurm_default_port(1999, 9), 29999);
  EXPECT_EQ(mg::slurm_default_port(2000, 10), 10000);
  EXPECT_NE(mg::slurm_default_port(77, 0), mg::slurm_default_port(78, 0));
  EXPECT_NE(mg::slurm_default_port(77, 0), mg::slurm_default_port(77, 1));
}

// The batch script sees SLURM_PROCID=0 and SLURM_NTASKS=N too: a mindgap started there
// without srun is one process, not rank 0 of N waiting for peers that never come.
TEST_F(RankEnv, BatchScriptOutsideAStepIsOneProcess) {
  set_srun_task("0");
  ::unsetenv("SLURM_STEP_ID");
  EXPECT_EQ(mg::discover_ranks().launcher, "single");
  set("SLURM_STEP_ID", "4294967294");  // Slurm's batch step
  EXPECT_EQ(mg::discover_ranks().launcher, "single");
  ::unsetenv("SLURM_STEP_ID");
  set("SLURM_STEPID", "2");  // older Slurm's name
  EXPECT_EQ(mg::discover_ranks().launcher, "srun");
}

TEST_F(RankEnv, MpirunAndTorchrunWinOverSlurmVariables) {
  set_srun_task();
  set("RANK", "1");
  set("WORLD_SIZE", "2");
  EXPECT_EQ(mg::discover_ranks().launcher, "torchrun");  // torchrun inside an allocation
  set("OMPI_COMM_WORLD_RANK", "0");
  set("OMPI_COMM_WORLD_SIZE", "4");
  auto info = mg::discover_ranks();  // mpirun inside salloc: its daemons were started by srun
  EXPECT_EQ(info.launcher, "mpirun");
  EXPECT_EQ(info.world_size, 4);
}

TEST_F(RankEnv, SrunProblemsNameTheVariable) {
  set_srun_task();
  set("SLURM_PROCID", "8");
  EXPECT_NE(bad_input_message().find("SLURM_PROCID"), std::string::npos);
  set("SLURM_PROCID", "1");
  set("SLURM_JOB_NODELIST", "node[01-");
  EXPECT_NE(bad_input_message().find("SLURM_JOB_NODELIST"), std::string::npos);
  ::unsetenv("SLURM_JOB_NODELIST");
  EXPECT_NE(bad_input_message().find("SLURM_JOB_NODELIST"), std::string::npos);
  set("SLURM_JOB_NODELIST", "n1");
  ::unsetenv("SLURM_JOB_ID");
  EXPECT_NE(bad_input_message().find("SLURM_JOB_ID"), std::string::npos);
  set("SLURM_JOB_ID", "12x");
  EXPECT_NE(bad_input_message().find("SLURM_JOB_ID"), std::string::npos);
}

using Hosts = std::vector<std::string>;

TEST(Hostlist, ExpandsSlurmsCompressedForms) {
  using mg::dist::expand_hostlist;
  EXPECT_EQ(expand_hostlist("node01"), Hosts{"node01"});
  EXPECT_EQ(expand_hostlist("node[01-04,07]"), (Hosts{"node01", "node02", "node03", "node04", "node07"}));
  EXPECT_EQ(expand_hostlist("a,b[1-2],c.example.org"), (Hosts{"a", "b1", "b2", "c.example.org"}));
  EXPECT_EQ(expand_hostlist("gpu[8-10]"), (Hosts{"gpu8", "gpu9", "gpu10"}));
  EXPECT_EQ(expand_hostlist("gpu[098-100]-ib"), (Hosts{"gpu098-ib", "gpu099-ib", "gpu100-ib"}));
  EXPECT_EQ(expand_hostlist("r[1-2]n[08-09]"), (Hosts{"r1n08", "r1n09", "r2n08", "r2n09"}));
  EXPECT_EQ(expand_hostlist("cpu[5],gpu[1,3]"), (Hosts{"cpu5", "gpu1", "gpu3"}));
  EXPECT_EQ(expand_hostlist("10.0.0.[1-2]"), (Hosts{"10.0.0.1", "10.0.0.2"}));
}

TEST(Hostlist, FirstHostNeedsNoExpansion) {
  using mg::dist::first_host;
  EXPECT_EQ(first_host("node[01-04,07]"), "node01");
  EXPECT_EQ(first_host("r[3-4]n[08-09],x"), "r3n08");
  EXPECT_EQ(first_host("login2,node[1-9999]"), "login2");
  EXPECT_EQ(first_host("node[9-9999]"), "node9");
}

TEST(Hostlist, MalformedListsAreBadInputNamingTheVariable) {
  for (const char* bad : {"", "node[01-", "node]", "node[]", "node[3-1]", "node[a-b]", "a,,b", "a,", "n[[1]]",
                          "n[1-2", "n [1]", "n[1-999999]"}) {
    try {
      mg::dist::expand_hostlist(bad, "SLURM_JOB_NODELIST");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const mg::Error& e) {
      EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
      EXPECT_NE(std::string(e.what()).find("SLURM_JOB_NODELIST"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
