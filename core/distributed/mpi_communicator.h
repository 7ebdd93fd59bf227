#pragma once
// The MPI backend, visible to the NCCL backend, which bootstraps over it under mpirun
// (internal to core/distributed).
#ifdef MINDGAP_HAVE_MPI
#include <mpi.h>

#include "core/distributed/communicator.h"

namespace mg::dist {

class MpiCommunicator final : public Communicator {
 public:
  // Initialises MPI (MPI_THREAD_FUNNELED) unless it already is; the communicator that
  // initialised it finalises it when destroyed, so keep one communicator for the process.
  explicit MpiCommunicator(const RankInfo& info);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  void all_reduce_sum(torch::Tensor& t) override;
  void broadcast(torch::Tensor& t, int root) override;
  std::vector<std::string> all_gather_bytes(const std::string& mine) override;
  void barrier() override;
  std::string backend() const override { return "mpi"; }
  [[noreturn]] void abort(int code) override;

  // Raw byte broadcast, for the NCCL unique id.
  void broadcast_bytes(void* data, int bytes, int root);

 private:
  void ok(int rc, const char* what) const;  // an MPI error code -> mg::Error

  MPI_Comm comm_ = MPI_COMM_NULL;  // a duplicate of MPI_COMM_WORLD, errors returned
  int rank_ = 0;
  int size_ = 1;
  bool owns_init_ = false;
};

}  // namespace mg::dist
#endif
