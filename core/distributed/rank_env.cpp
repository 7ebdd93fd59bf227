#include "core/distributed/rank_env.h"

#include <charconv>
#include <cstdlib>
#include <optional>

#include "core/distributed/hostlist.h"
#include "core/errors.h"

namespace mg {
namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// The whole value must be a decimal integer in [lo, hi]; anything else names the variable.
int parse_int(const char* name, const std::string& value, long lo, long hi) {
  long out = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (value.empty() || ec != std::errc() || ptr != end)
    fail_input(std::string(name) + "='" + value + "' is not an integer");
  if (out < lo || out > hi)
    fail_input(std::string(name) + "=" + value + " is out of range [" + std::to_string(lo) + ", " +
               std::to_string(hi) + "]");
  return static_cast<int>(out);
}

int required_int(const char* name, const char* because, long lo, long hi) {
  auto v = env(name);
  if (!v) fail_input(std::string(name) + " is not set although " + because + " is");
  return parse_int(name, *v, lo, hi);
}

constexpr long kMaxRanks = 1 << 20;

// The world size and rank (both required once either is set) and, when set, the local rank,
// from a launcher's three variables.
RankInfo read_ranks(const char* launcher, const char* size_var, const char* rank_var, const char* local_rank_var) {
  RankInfo info;
  info.launcher = launcher;
  const char* anchor = env(size_var) ? size_var : rank_var;
  info.world_size = required_int(size_var, anchor, 1, kMaxRanks);
  info.rank = required_int(rank_var, anchor, 0, info.world_size - 1);
  if (auto v = env(local_rank_var)) info.local_rank = parse_int(local_rank_var, *v, 0, info.world_size - 1);
  return info;
}

RankInfo from_open_mpi() {
  // Old launchers may lack the local rank; then each node's ranks cannot be told apart,
  // and 0 is the only safe guess for a one-node job.
  return read_ranks("mpirun", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK");
}

RankInfo from_torchrun() {
  RankInfo info = read_ranks("torchrun", "WORLD_SIZE", "RANK", "LOCAL_RANK");
  if (auto v = env("MASTER_ADDR")) {
    if (v->empty()) fail_input("MASTER_ADDR is set but empty");
    info.master_addr = *v;
  }
  if (auto v = env("MASTER_PORT")) info.master_port = parse_int("MASTER_PORT", *v, 1, 65535);
  return info;
}

unsigned long parse_ulong(const char* name, const std::string& value) {
  unsigned long out = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, out);
  if (value.empty() || ec != std::errc() || ptr != end)
    fail_input(std::string(name) + "='" + value + "' is not a non-negative integer");
  return out;
}

// Slurm numbers its special steps (batch script, extern, interactive, pending) from the top
// of the 32-bit range down; srun's steps count up from 0.
constexpr unsigned long kFirstSpecialStep = 0xFFFFFFF0UL;

const char* step_id_var() {
  if (env("SLURM_STEP_ID")) return "SLURM_STEP_ID";
  if (env("SLURM_STEPID")) return "SLURM_STEPID";  // older Slurm
  return nullptr;
}

bool in_srun_step() {
  const char* var = step_id_var();
  if (var == nullptr || !env("SLURM_PROCID")) return false;
  return parse_ulong(var, *env(var)) < kFirstSpecialStep;
}

RankInfo from_slurm() {
  const char* size_var = env("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
  RankInfo info = read_ranks("srun", size_var, "SLURM_PROCID", "SLURM_LOCALID");
  if (auto v = env("MASTER_ADDR")) {
    if (v->empty()) fail_input("MASTER_ADDR is set but empty");
    info.master_addr = *v;
  } else {
    const char* list_var = nullptr;
    for (const char* name : {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST"})
      if (env(name)) {
        list_var = name;
        break;
      }
    if (list_var == nullptr)
      fail_input("an srun launch needs SLURM_JOB_NODELIST (or MASTER_ADDR) to find rank 0's node");
    info.master_addr = dist::first_host(*env(list_var), list_var);
  }
  if (auto v = env("MASTER_PORT")) {
    info.master_port = parse_int("MASTER_PORT", *v, 1, 65535);
  } else {
    const char* job = env("SLURM_JOB_ID") ? "SLURM_JOB_ID" : env("SLURM_JOBID") ? "SLURM_JOBID" : nullptr;
    if (job == nullptr) fail_input("an srun launch without MASTER_PORT needs SLURM_JOB_ID to choose the port");
    const char* step = step_id_var();
    info.master_port = slurm_default_port(parse_ulong(job, *env(job)), parse_ulong(step, *env(step)));
  }
  return info;
}

}  // namespace

RankInfo discover_ranks() {
  if (env("OMPI_COMM_WORLD_RANK") || env("OMPI_COMM_WORLD_SIZE")) return from_open_mpi();
  if (env("RANK") || env("WORLD_SIZE")) return from_torchrun();
  if (in_srun_step()) return from_slurm();
  return RankInfo{};
}

int slurm_default_port(unsigned long job_id, unsigned long step_id) {
  return static_cast<int>(10000 + 10 * (job_id % 2000) + step_id % 10);
}

}  // namespace mg
