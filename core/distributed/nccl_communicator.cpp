// One GPU per rank over NCCL, on the device's current torch stream, so collectives are
// ordered with the kernels around them. Rank 0 creates the NCCL unique id; it travels over
// MPI under mpirun, or through a c10d TCPStore at MASTER_ADDR:MASTER_PORT under torchrun.
#ifdef MINDGAP_HAVE_NCCL
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "core/distributed/backends.h"
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


class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const RankInfo& info, const torch::Device& device)
      : device_(device), rank_(info.rank), size_(info.world_size) {
    check(device.is_cuda() && device.has_index(), "NCCL needs a CUDA device with an index");
    ncclUniqueId id;
    std::memset(&id, 0, sizeof(id));
    if (info.launcher == "mpirun") {
      bootstrap_ = std::make_unique<MpiCommunicator>(info);
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
      ok(ncclAllReduce(w.data_ptr(), w.data_ptr(), w.numel(), nccl_type(w.scalar_type()), ncclSum, comm_, s),
         "ncclAllReduce");
    });
  }

  void broadcast(torch::Tensor& t, int root) override {
    check(root >= 0 && root < size_, "broadcast: root " + std::to_string(root) + " out of range");
    on_device(t, [&](torch::Tensor& w, cudaStream_t s) {
      ok(ncclBroadcast(w.data_ptr(), w.data_ptr(), w.numel(), nccl_type(w.scalar_type()), root, comm_, s),
         "ncclBroadcast");
    });
  }

  std::vector<std::string> all_gather_bytes(const std::string& mine) override {
    c10::cuda::CUDAGuard guard(device_);
    cudaStream_t s = c10::cuda::getCurrentCUDAStream(device_.index()).stream();
    auto opts = torch::TensorOptions().device(device_);
    auto my_len = torch::full({1}, static_cast<int64_t>(mine.size()), opts.dtype(torch::kInt64));
    auto lens = torch::empty({size_}, opts.dtype(torch::kInt64));
    ok(ncclAllGather(my_len.data_ptr(), lens.data_ptr(), 1, ncclInt64, comm_, s), "ncclAllGather");
    auto lens_cpu = lens.cpu();  // synchronises with the stream
    int64_t longest = std::max<int64_t>(1, lens_cpu.max().item<int64_t>());
    // Every buffer padded to the longest, gathered in one call.
    auto padded = torch::zeros({longest}, torch::kUInt8);
    if (!mine.empty()) std::memcpy(padded.data_ptr(), mine.data(), mine.size());
    auto send = padded.to(device_);
    auto recv = torch::empty({size_ * longest}, opts.dtype(torch::kUInt8));
    ok(ncclAllGather(send.data_ptr(), recv.data_ptr(), longest, ncclUint8, comm_, s), "ncclAllGather");
    auto all = recv.cpu();
    auto* bytes = static_cast<const char*>(all.data_ptr());
    std::vector<std::string> out(size_);
    for (int r = 0; r < size_; ++r) out[r].assign(bytes + r * longest, lens_cpu[r].item<int64_t>());
    return out;
  }

  void barrier() override {
    auto t = torch::zeros({1}, torch::TensorOptions().device(device_));
    all_reduce_sum(t);
    c10::cuda::getCurrentCUDAStream(device_.index()).synchronize();
  }

  [[noreturn]] void abort(int code) override {
    std::fflush(nullptr);
    if (comm_ != nullptr) ncclCommAbort(comm_);  // frees peers stuck in a kernel on our side
    comm_ = nullptr;
    if (bootstrap_) bootstrap_->abort(code);  // mpirun then kills the other ranks
    std::_Exit(code == 0 ? 1 : code);          // torchrun ends the others when one exits
  }

 private:
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
  int rank_;
  int size_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const RankInfo& info, const torch::Device& device) {
  return std::make_unique<NcclCommunicator>(info, device);
}

}  // namespace mg::dist
#endif
