#pragma once
// One interface for the collectives of data-parallel rounds, whatever carries them: nothing
// (one process), MPI (CPU ranks under mpirun), Gloo (CPU ranks under torchrun or srun) or
// NCCL (one GPU per rank). Every rank must call the same
// collectives in the same order; a collective a rank skips leaves the others waiting.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/distributed/rank_env.h"

namespace mg {

// How long a collective waits for the other ranks before it gives up (recipe key
// run.dist_timeout_s): a rank that is alive but stuck would otherwise hold every other rank
// in the collective forever.
constexpr double kDefaultDistTimeoutS = 600;

// A collective in flight. wait() returns once it completed on this rank; it throws mg::Error
// when the other ranks have not joined within the communicator's timeout. The tensor handed
// to the collective must be left alone until then.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  virtual void wait() = 0;
  // Lets the collective progress without blocking (MPI moves nonblocking collectives along
  // only inside MPI calls); true once it completed.
  virtual bool test() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In place; float32, float64 and int64 on every backend (NCCL also takes bf16/fp16, MPI
  // and Gloo int32). A tensor on another device than the backend's is staged through it.
  virtual void all_reduce_sum(torch::Tensor& t) = 0;
  // Sum / world_size; floating-point tensors only.
  void all_reduce_mean(torch::Tensor& t);
  // all_reduce_sum started now and finished by the handle's wait(), so that work can run
  // while it travels (gradients of later layers during the backward pass). Same types as
  // all_reduce_sum; collectives must still be started in the same order on every rank.
  // The default runs the blocking all_reduce_sum at once (the single process).
  virtual std::unique_ptr<PendingCollective> all_reduce_sum_async(torch::Tensor t);
  virtual void broadcast(torch::Tensor& t, int root) = 0;
  // Variable-length buffers (empty allowed), one per rank, in rank order.
  virtual std::vector<std::string> all_gather_bytes(const std::string& mine) = 0;
  virtual void barrier() = 0;
  virtual std::string backend() const = 0;  // "single" | "mpi" | "gloo" | "nccl"
  // Every rank calls with its own success flag; if any rank failed, every rank throws
  // mg::Error naming the failed rank(s), so all ranks take the same branch afterwards.
  void agree(bool ok, const std::string& what);
  // Ends the whole job from a failing rank (MPI_Abort / ncclCommAbort; under Gloo the rank
  // exits, which breaks its peers' connections and makes torchrun stop the others), so that
  // no other rank waits forever in a collective.
  [[noreturn]] virtual void abort(int code) = 0;
};

// world_size 1 -> "single" (no MPI_Init); a CUDA device -> NCCL (the unique id travels over
// MPI under mpirun, over a c10d TCPStore at MASTER_ADDR:MASTER_PORT under torchrun or srun);
// CPU ranks -> MPI under mpirun, Gloo (meeting through that TCPStore) under torchrun or srun.
// Every collective of a multi-rank communicator throws mg::Error when the other ranks have not
// joined it within `timeout_s` seconds (run_or_abort then ends the job).
std::unique_ptr<Communicator> make_communicator(const RankInfo& info, const torch::Device& device,
                                                double timeout_s = kDefaultDistTimeoutS);

// Runs `body` on this rank. In a multi-rank job an exception is logged with the rank and
// turned into comm.abort(its exit code): the failing rank ends the job instead of leaving
// the others in a collective (and MPI_Finalize, which waits for every rank, is never
// reached). With one rank the exception is rethrown for main to print.
void run_or_abort(Communicator& comm, const std::function<void()>& body);

}  // namespace mg
