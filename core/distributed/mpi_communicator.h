#pragma once
// The MPI backend, visible to the NCCL backend, which bootstraps over it under mpirun
// (internal to core/distributed).
#ifdef MINDGAP_HAVE_MPI
#include <mpi.h>

#include <vector>

#include "core/distributed/collective_wait.h"
#include "core/distributed/communicator.h"

namespace mg::dist {

class MpiCommunicator final : public Communicator {
 public:
  // Initialises MPI (MPI_THREAD_FUNNELED) unless it already is; the communicator that
  // initialised it finalises it when destroyed, so keep one communicator for the process.
  // Collectives are nonblocking MPI calls polled until `timeout_s` seconds have passed.
  MpiCommunicator(const RankInfo& info, double timeout_s);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  void all_reduce_sum(torch::Tensor& t) override;
  std::unique_ptr<PendingCollective> all_reduce_sum_async(torch::Tensor t) override;
  void broadcast(torch::Tensor& t, int root) override;
  std::vector<std::string> all_gather_bytes(const std::string& mine) override;
  void barrier() override;
  std::string backend() const override { return "mpi"; }
  [[noreturn]] void abort(int code) override;

  // Raw byte broadcast, for the NCCL unique id.
  void broadcast_bytes(void* data, int bytes, int root);

  double timeout_s() const { return timeout_s_; }
  // Polls `requests` until all completed; past `deadline` the communicator is marked broken
  // and mg::Error names `what` and the timeout.
  void complete(std::vector<MPI_Request>& requests, const char* what, Clock::time_point deadline);
  // MPI_Testall: lets the requests progress; true once all completed.
  bool test(std::vector<MPI_Request>& requests);
  void ok(int rc, const char* what) const;  // an MPI error code -> mg::Error

 private:
  // A collective is about to start: refused once one timed out, because the ranks are then
  // out of step and the next collective could pair with the wrong one.
  void check_usable(const char* what) const;

  MPI_Comm comm_ = MPI_COMM_NULL;  // a duplicate of MPI_COMM_WORLD, errors returned
  int rank_ = 0;
  int size_ = 1;
  bool owns_init_ = false;
  double timeout_s_;
  bool timed_out_ = false;  // a collective gave up: MPI_Finalize would wait for the stuck rank
};

}  // namespace mg::dist
#endif
