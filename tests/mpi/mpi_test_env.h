#pragma once
// The main of a multi-rank test binary (run as `mpirun -np 2 <binary>`, or under torchrun
// with Gloo): one communicator for the whole process (MPI can be initialised once), every rank runs every test in the same order,
// and the binary fails when a test failed on any rank.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <memory>

#include "core/distributed/communicator.h"
#include "core/runtime.h"

namespace mg::testing {

// The process's communicator, for the tests; set by run_mpi_tests.
inline Communicator*& comm_slot() {
  static Communicator* comm = nullptr;
  return comm;
}
inline Communicator& comm() { return *comm_slot(); }

inline int run_mpi_tests(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  set_threads(1);
  torch::manual_seed(0);
  auto info = discover_ranks();
  if (info.world_size < 2) {
    std::fprintf(stderr, "this test needs several ranks: run it as `mpirun -np 2 %s` (or torchrun --no-python)\n",
                 argv[0]);
    return 1;
  }
  auto owned = make_communicator(info, torch::Device(torch::kCPU));
  comm_slot() = owned.get();
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  auto any = torch::tensor({static_cast<int64_t>(failed)});
  owned->all_reduce_sum(any);
  comm_slot() = nullptr;
  owned.reset();  // MPI_Finalize (or Gloo's shutdown), reached by every rank
  return any.item<int64_t>() == 0 ? 0 : 1;
}

}  // namespace mg::testing
