// Rank discovery from launcher variables, set and unset in-process and restored afterwards.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "core/distributed/communicator.h"
#include "core/distributed/rank_env.h"
#include "core/errors.h"

namespace {

const char* const kVars[] = {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                             "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"};

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

TEST_F(RankEnv, CpuRanksFromTorchrunAreRejected) {
  mg::RankInfo info;
  info.rank = 0;
  info.world_size = 2;
  info.launcher = "torchrun";
  try {
    mg::make_communicator(info, torch::Device(torch::kCPU));
    ADD_FAILURE() << "no error";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("MPI"), std::string::npos) << e.what();
  }
}

}  // namespace
