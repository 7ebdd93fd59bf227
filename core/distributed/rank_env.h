#pragma once
// Which rank this process is, read from the launcher's environment variables: Open MPI's
// mpirun (OMPI_COMM_WORLD_*), torchrun-style launchers (RANK, WORLD_SIZE, ...), Slurm's srun
// (SLURM_PROCID, ...), or none (a single process).
#include <string>

namespace mg {

struct RankInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string launcher = "single";  // "single" | "mpirun" | "torchrun" | "srun"
  std::string master_addr;          // torchrun and srun: where rank 0 serves the rendezvous
  int master_port = 0;
};

// The first launcher whose variables are present, in this order:
//  1. mpirun: OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK. First because mpirun inside a Slurm
//     allocation starts its daemons with srun, so its ranks inherit SLURM_* variables too.
//  2. torchrun: RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT. torchrun inside an sbatch
//     script or started by srun (one agent per node) sets them for its workers, which are
//     the ranks; the SLURM_* variables there describe the agents.
//  3. srun: a task of a job step (SLURM_STEP_ID set, not one of Slurm's special steps such as
//     the batch script itself, which also sees SLURM_PROCID=0 and SLURM_NTASKS=N): rank
//     SLURM_PROCID of SLURM_STEP_NUM_TASKS (else SLURM_NTASKS), local rank SLURM_LOCALID; the
//     rendezvous at MASTER_ADDR if set, else the first host of SLURM_STEP_NODELIST (else
//     SLURM_JOB_NODELIST), on MASTER_PORT if set, else slurm_default_port().
//  4. a single process.
// A malformed or inconsistent value is bad input (mg::Error of kind BadInput) whose message
// names the variable.
RankInfo discover_ranks();

// The rendezvous port of an srun launch without MASTER_PORT: 10000 + 10 * (job id mod 2000)
// + (step id mod 10), in [10000, 29999], below Linux's ephemeral ports. Jobs whose ids differ
// by less than 2000 get different ports on a shared first node, and so do up to ten steps
// of one job running at once.
int slurm_default_port(unsigned long job_id, unsigned long step_id);

}  // namespace mg
