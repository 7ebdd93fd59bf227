// One GPU per rank over NCCL, on the device's current torch stream, so collectives are
// ordered with the kernels around them. Rank 0 creates the NCCL unique id; it travels over
// MPI under mpirun, or through a c10d TCPStore at MASTER_ADDR:MASTER_PORT under torchrun.
// The host waits for each collective with a deadline (a stuck peer would otherwise hold the
// kernel, and this rank, forever); past it the communicator is aborted and mg::Error thrown.
// Asynchronous all-reduces run on a separate stream, so that they overlap the backward pass.
#ifdef MINDGAP_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/distributed/backends.h"
#include "core/distributed/collective_wait.h"
#include "core/distributed/mpi_communicator.h"
#include "core/distributed/store_bootstrap.h"
#include "core/errors.h"

namespace mg::dist {
namespace {

ncclDataType_t nccl_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kInt64: return ncclInt64;
    case torch::kInt32: return ncclInt32;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kFloat16: return ncclFloat16;
    case torch::kUInt8: return ncclUint8;
    default:
      fail_internal(std::string("NCCL collectives take float32/64, bf16, fp16, int64/32 or uint8 tensors, not ") +
                    c10::toString(t));
  }
}

void cuda_ok(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) fail_internal(std::string(what) + " failed: " + cudaGetErrorString(rc));
}

// An event recorded on `stream` now: its completion marks everything enqueued before it.
cudaEvent_t record_event(cudaStream_t stream) {
  cudaEvent_t e = nullptr;
  cuda_ok(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  cuda_ok(cudaEventRecord(e, stream), "cudaEventRecord");
  return e;
}

// cudaEventQuery without leaving "not ready" behind as the thread's last CUDA error.
bool event_done(cudaEvent_t e) {
  cudaError_t rc = cudaEventQuery(e);
  if (rc == cudaErrorNotReady) {
    (void)cudaGetLastError();
    return false;
  }
  cuda_ok(rc, "cudaEventQuery");
  return true;
}

class NcclCommunicator;

// An all-reduce in flight on the communicator's own stream; `done` is recorded after it.
class NcclPendingSum final : public PendingCollective {
 public:
  NcclPendingSum(NcclCommunicator& comm, torch::Tensor target, torch::Tensor work, cudaEvent_t done)
      : comm_(comm), target_(std::move(target)), work_(std::move(work)), done_event_(done) {}
  ~NcclPendingSum() override {
    // Released once the work completes. A destructor cannot throw, and a failure here would
    // only leak an event.
    if (done_event_ != nullptr) (void)cudaEventDestroy(done_event_);
  }
  void wait() override;
  bool test() override {
    if (!finished_ && event_done(done_event_)) wait();
    return finished_;
  }

 private:
  NcclCommunicator& comm_;
  torch::Tensor target_, work_;
  cudaEvent_t done_event_;
  bool finished_ = false;
};


class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const RankInfo& info, const torch::Device& device, double timeout_s)
      : device_(device), rank_(info.rank), size_(info.world_size), timeout_s_(timeout_s) {
    check(device.is_cuda() && device.has_index(), "NCCL needs a CUDA device with an index");
    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (info.launcher == "mpirun") {
      bootstrap_ = std::make_unique<MpiCommunicator>(info, timeout_s);
      if (rank_ == 0) ok(ncclGetUniqueId(&id), "ncclGetUniqueId");
      bootstrap_->broadcast_bytes(&id, sizeof(id), 0);
    } else {
      std::string bytes = share_over_store(info, "nccl_unique_id", [] {
        ncclUniqueId fresh;
        if (ncclGetUniqueId(&fresh) != ncclSuccess) fail_internal("ncclGetUniqueId failed");
        return std::string(fresh.internal, sizeof(fresh.internal));
      });
      check(bytes.size() == sizeof(id.internal), "NCCL unique id of the wrong size");
      std::memcpy(id.internal, bytes.data(), bytes.size());
    }
    c10::cuda::CUDAGuard guard(device_);
    ok(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    comm_stream_ = c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device_.index());
  }
  ~NcclCommunicator() override {
    // Before the MPI bootstrap member (declared first) finalises MPI.
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend() const override { return "nccl"; }

  void all_reduce_sum(torch::Tensor& t) override {
    on_device(t, [&](torch::Tensor& w, cudaStream_t s) {
      ok(ncclAllReduce(w.data_ptr(), w.data_ptr(), w.numel(), nccl_type(w.scalar_type()), ncclSum, live(), s),
         "ncclAllReduce");
      wait_for(s, "all_reduce_sum");
    });
  }

  std::unique_ptr<PendingCollective> all_reduce_sum_async(torch::Tensor t) override {
    check(t.defined(), "NCCL collective on an undefined tensor");
    nccl_type(t.scalar_type());
    c10::cuda::CUDAGuard guard(device_);
    // The stream that produced t (in a backward hook: the stream of that backward node).
    cudaStream_t compute = c10::cuda::getCurrentCUDAStream(device_.index()).stream();
    torch::Tensor work = t.device() == device_ && t.is_contiguous() ? t : t.to(device_).contiguous();
    // The comm stream starts the all-reduce once `work` is ready on the compute stream, and
    // the compute stream goes on with the rest of the backward pass meanwhile.
    cudaEvent_t ready = record_event(compute);
    cuda_ok(cudaStreamWaitEvent(comm_stream_->stream(), ready, 0), "cudaStreamWaitEvent");
    cuda_ok(cudaEventDestroy(ready), "cudaEventDestroy");  // the wait already holds what it needs
    // The caching allocator must not hand work's memory to the compute stream again before
    // the comm stream is done with it, even if the handle is dropped unwaited.
    c10::cuda::CUDACachingAllocator::recordStream(work.storage().data_ptr(), *comm_stream_);
    ok(ncclAllReduce(work.data_ptr(), work.data_ptr(), work.numel(), nccl_type(work.scalar_type()), ncclSum,
                     live(), comm_stream_->stream()),
       "ncclAllReduce");
    return std::make_unique<NcclPendingSum>(*this, t, work, record_event(comm_stream_->stream()));
  }

  // Polls `done` (an event after a collective) up to the timeout, watching for NCCL's own
  // asynchronous errors; on a timeout the communicator is aborted, which ends a kernel stuck
  // waiting for a peer, and mg::Error is thrown.
  void wait_for_event(cudaEvent_t done, const char* what) {
    bool completed = poll_until(
        [&] {
          if (event_done(done)) return true;
          ncclResult_t async = ncclSuccess;
          ok(ncclCommGetAsyncError(live(), &async), "ncclCommGetAsyncError");
          if (async != ncclSuccess && async != ncclInProgress) {
            abort_comm();
            fail_internal(std::string(what) + " failed on rank " + std::to_string(rank_) + ": " +
                          ncclGetErrorString(async));
          }
          return false;
        },
        deadline_after(timeout_s_));
    if (completed) return;
    abort_comm();
    fail_timeout(rank_, what, timeout_s_);
  }

  void broadcast(torch::Tensor& t, int root) override {
    check(root >= 0 && root < size_, "broadcast: root " + std::to_string(root) + " out of range");
    on_device(t, [&](torch::Tensor& w, cudaStream_t s) {
      ok(ncclBroadcast(w.data_ptr(), w.data_ptr(), w.numel(), nccl_type(w.scalar_type()), root, live(), s),
         "ncclBroadcast");
      wait_for(s, "broadcast");
    });
  }

  std::vector<std::string> all_gather_bytes(const std::string& mine) override {
    c10::cuda::CUDAGuard guard(device_);
    cudaStream_t s = c10::cuda::getCurrentCUDAStream(device_.index()).stream();
    auto opts = torch::TensorOptions().device(device_);
    auto my_len = torch::full({1}, static_cast<int64_t>(mine.size()), opts.dtype(torch::kInt64));
    auto lens = torch::empty({size_}, opts.dtype(torch::kInt64));
    ok(ncclAllGather(my_len.data_ptr(), lens.data_ptr(), 1, ncclInt64, live(), s), "ncclAllGather");
    wait_for(s, "all_gather_bytes");
    auto lens_cpu = lens.cpu();
    int64_t longest = std::max<int64_t>(1, lens_cpu.max().item<int64_t>());
    // Every buffer padded to the longest, gathered in one call.
    auto padded = torch::zeros({longest}, torch::kUInt8);
    if (!mine.empty()) std::memcpy(padded.data_ptr(), mine.data(), mine.size());
    auto send = padded.to(device_);
    auto recv = torch::empty({size_ * longest}, opts.dtype(torch::kUInt8));
    ok(ncclAllGather(send.data_ptr(), recv.data_ptr(), longest, ncclUint8, live(), s), "ncclAllGather");
    wait_for(s, "all_gather_bytes");
    auto all = recv.cpu();
    auto* bytes = static_cast<const char*>(all.data_ptr());
    std::vector<std::string> out(size_);
    for (int r = 0; r < size_; ++r) out[r].assign(bytes + r * longest, lens_cpu[r].item<int64_t>());
    return out;
  }

  void barrier() override {
    auto t = torch::zeros({1}, torch::TensorOptions().device(device_));
    all_reduce_sum(t);  // returns once the stream reached the end of the all-reduce
  }

  [[noreturn]] void abort(int code) override {
    std::fflush(nullptr);
    abort_comm();  // frees peers stuck in a kernel on our side
    if (bootstrap_) bootstrap_->abort(code);  // mpirun then kills the other ranks
    std::_Exit(code == 0 ? 1 : code);          // torchrun ends the others when one exits
  }

 private:
  // The communicator, or mg::Error when a timeout or an error has aborted it.
  ncclComm_t live() const {
    if (comm_ == nullptr)
      fail_internal("NCCL collective on rank " + std::to_string(rank_) + " after the communicator was aborted");
    return comm_;
  }

  void abort_comm() {
    // Its result is not checked: this runs on the way to an error or the end of the job,
    // and a failed abort leaves nothing better to do.
    if (comm_ != nullptr) (void)ncclCommAbort(comm_);
    comm_ = nullptr;
  }

  // Waits, with the timeout, for what was enqueued on `stream` so far.
  void wait_for(cudaStream_t stream, const char* what) {
    cudaEvent_t done = record_event(stream);
    try {
      wait_for_event(done, what);
    } catch (...) {
      (void)cudaEventDestroy(done);  // the collective's error is the one to report
      throw;
    }
    cuda_ok(cudaEventDestroy(done), "cudaEventDestroy");
  }

  void ok(ncclResult_t rc, const char* what) const {
    if (rc == ncclSuccess || rc == ncclInProgress) return;
    std::string detail = comm_ != nullptr ? ncclGetLastError(comm_) : "";
    fail_internal(std::string(what) + " failed on rank " + std::to_string(rank_) + ": " + ncclGetErrorString(rc) +
                  (detail.empty() ? "" : " (" + detail + ")"));
  }

  // Runs `op` on a contiguous tensor on this rank's GPU, copying t there and back if needed.
  template <typename Op>
  void on_device(torch::Tensor& t, Op op) {
    check(t.defined(), "NCCL collective on an undefined tensor");
    nccl_type(t.scalar_type());  // reject the type before entering the collective
    c10::cuda::CUDAGuard guard(device_);
    bool direct = t.device() == device_ && t.is_contiguous();
    torch::Tensor work = direct ? t : t.to(device_).contiguous();
    op(work, c10::cuda::getCurrentCUDAStream(device_.index()).stream());
    if (!direct) t.copy_(work);
  }

  std::unique_ptr<MpiCommunicator> bootstrap_;  // under mpirun; destroyed after comm_
  torch::Device device_;
  ncclComm_t comm_ = nullptr;
  std::optional<c10::cuda::CUDAStream> comm_stream_;  // for asynchronous all-reduces
  int rank_;
  int size_;
  double timeout_s_;
};

void NcclPendingSum::wait() {
  if (finished_) return;
  comm_.wait_for_event(done_event_, "all_reduce_sum");
  finished_ = true;
  // The host has seen the all-reduce finish, so the copy below (on the current stream)
  // reads the reduced values.
  if (!work_.is_same(target_)) target_.copy_(work_);
}

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const RankInfo& info, const torch::Device& device,
                                                     double timeout_s) {
  return std::make_unique<NcclCommunicator>(info, device, timeout_s);
}

}  // namespace mg::dist
#endif
