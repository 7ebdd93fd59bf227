#pragma once
// Which rank this process is, read from the launcher's environment variables: Open MPI's
// mpirun (OMPI_COMM_WORLD_*), torchrun-style launchers (RANK, WORLD_SIZE, ...), or neither
// (a single process).
#include <string>

namespace mg {

struct RankInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string launcher = "single";  // "single" | "mpirun" | "torchrun"
  std::string master_addr;          // torchrun-style launches only
  int master_port = 0;              // torchrun-style launches only
};

// Open MPI's OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK first, else RANK/WORLD_SIZE/LOCAL_RANK/
// MASTER_ADDR/MASTER_PORT, else a single process. A malformed or inconsistent value is
// bad input (mg::Error of kind BadInput) whose message names the variable.
RankInfo discover_ranks();

}  // namespace mg
