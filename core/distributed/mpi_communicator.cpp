// CPU ranks over MPI. Errors are returned (MPI_ERRORS_RETURN) and become mg::Error; a rank
// that fails ends the job with MPI_Abort (see run_or_abort) rather than leaving the others
// blocked.
#ifdef MINDGAP_HAVE_MPI
#include "core/distributed/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/distributed/backends.h"
#include "core/errors.h"
#include "core/log.h"

namespace mg::dist {
namespace {

MPI_Datatype mpi_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    default:
      fail_internal(std::string("MPI collectives take float32, float64, int64 or int32 tensors, not ") +
                    c10::toString(t));
  }
}

// MPI counts are ints: a larger tensor goes in slices.
constexpr int64_t kMaxCount = INT_MAX / 2;

// Runs `op` on a contiguous CPU tensor holding t's values, then writes the result back into
// t when that tensor was a copy (non-contiguous or on a GPU without CUDA-aware MPI).
template <typename Op>
void on_contiguous_cpu(torch::Tensor& t, Op op) {
  check(t.defined(), "MPI collective on an undefined tensor");
  bool direct = t.is_cpu() && t.is_contiguous();
  torch::Tensor work = direct ? t : t.to(torch::kCPU).contiguous();
  mpi_type(work.scalar_type());  // reject the type before any rank enters the collective
  op(work);
  if (!direct) t.copy_(work);
}

}  // namespace

MpiCommunicator::MpiCommunicator(const RankInfo& info) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) fail_internal("MPI was already finalised in this process: create one communicator per process");
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // The caller's thread is the only one that talks to MPI.
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      fail_internal("MPI_Init_thread failed");
    owns_init_ = true;
  }
  ok(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
  ok(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  ok(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  ok(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  if (rank_ != info.rank || size_ != info.world_size)
    fail_input("the launcher says rank " + std::to_string(info.rank) + " of " + std::to_string(info.world_size) +
               " but MPI says rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
               ": launch CPU ranks with mpirun");
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // Destroyed while an exception unwinds past it (main did not use run_or_abort): the other
  // ranks may be waiting in a collective, and MPI_Finalize would wait for them forever.
  if (std::uncaught_exceptions() > 0 && size_ > 1) {
    log::error("rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
               " is leaving with an exception in flight -- ending the job");
    abort(1);
  }
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  if (owns_init_) MPI_Finalize();
}

void MpiCommunicator::ok(int rc, const char* what) const {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) len = 0;
  fail_internal(std::string(what) + " failed on rank " + std::to_string(rank_) + ": " + std::string(text, len));
}

void MpiCommunicator::all_reduce_sum(torch::Tensor& t) {
  on_contiguous_cpu(t, [&](torch::Tensor& w) {
    MPI_Datatype type = mpi_type(w.scalar_type());
    auto* base = static_cast<char*>(w.data_ptr());
    for (int64_t off = 0; off < w.numel(); off += kMaxCount) {
      int count = static_cast<int>(std::min(kMaxCount, w.numel() - off));
      ok(MPI_Allreduce(MPI_IN_PLACE, base + off * w.element_size(), count, type, MPI_SUM, comm_), "MPI_Allreduce");
    }
  });
}

void MpiCommunicator::broadcast(torch::Tensor& t, int root) {
  check(root >= 0 && root < size_, "broadcast: root " + std::to_string(root) + " out of range");
  on_contiguous_cpu(t, [&](torch::Tensor& w) {
    MPI_Datatype type = mpi_type(w.scalar_type());
    auto* base = static_cast<char*>(w.data_ptr());
    for (int64_t off = 0; off < w.numel(); off += kMaxCount) {
      int count = static_cast<int>(std::min(kMaxCount, w.numel() - off));
      ok(MPI_Bcast(base + off * w.element_size(), count, type, root, comm_), "MPI_Bcast");
    }
  });
}

void MpiCommunicator::broadcast_bytes(void* data, int bytes, int root) {
  ok(MPI_Bcast(data, bytes, MPI_BYTE, root, comm_), "MPI_Bcast");
}

std::vector<std::string> MpiCommunicator::all_gather_bytes(const std::string& mine) {
  // Lengths first, then the bytes at their offsets (MPI_Allgatherv counts are ints).
  long long my_len = static_cast<long long>(mine.size());
  std::vector<long long> lens(size_);
  ok(MPI_Allgather(&my_len, 1, MPI_LONG_LONG, lens.data(), 1, MPI_LONG_LONG, comm_), "MPI_Allgather");
  std::vector<int> counts(size_), offsets(size_);
  long long total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[r] = static_cast<int>(total);
    counts[r] = static_cast<int>(lens[r]);
    total += lens[r];
  }
  // Every rank sees the same total, so every rank takes this branch together.
  if (total > INT_MAX) fail_internal("all_gather_bytes: " + std::to_string(total) + " bytes in all is over 2 GiB");
  std::string all(static_cast<size_t>(total) + 1, '\0');  // +1: a valid buffer when all are empty
  ok(MPI_Allgatherv(mine.data(), static_cast<int>(my_len), MPI_BYTE, all.data(), counts.data(), offsets.data(),
                    MPI_BYTE, comm_),
     "MPI_Allgatherv");
  std::vector<std::string> out(size_);
  for (int r = 0; r < size_; ++r) out[r] = all.substr(offsets[r], counts[r]);
  return out;
}

void MpiCommunicator::barrier() { ok(MPI_Barrier(comm_), "MPI_Barrier"); }

void MpiCommunicator::abort(int code) {
  std::fflush(nullptr);
  // Open MPI reports "MPI_ABORT was invoked on rank N" and kills every other rank.
  MPI_Abort(MPI_COMM_WORLD, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);  // MPI_Abort does not return; this is for the compiler
}

std::unique_ptr<Communicator> make_mpi_communicator(const RankInfo& info) {
  return std::make_unique<MpiCommunicator>(info);
}

}  // namespace mg::dist
#endif
