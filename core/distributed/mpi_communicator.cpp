// CPU ranks over MPI. Errors are returned (MPI_ERRORS_RETURN) and become mg::Error; a rank
// that fails ends the job with MPI_Abort (see run_or_abort) rather than leaving the others
// blocked. Every collective is a nonblocking MPI call polled up to a deadline: a blocking one
// would wait forever for a rank that is alive but stuck.
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

// A contiguous CPU tensor holding t's values: t itself, or a copy (non-contiguous, or on a
// GPU without CUDA-aware MPI) whose result the caller writes back.
torch::Tensor contiguous_cpu(const torch::Tensor& t) {
  check(t.defined(), "MPI collective on an undefined tensor");
  torch::Tensor work = t.is_cpu() && t.is_contiguous() ? t : t.to(torch::kCPU).contiguous();
  mpi_type(work.scalar_type());  // reject the type before any rank enters the collective
  return work;
}

// Starts `start(offset, count, request)` on each slice of at most kMaxCount elements.
template <typename Start>
std::vector<MPI_Request> start_sliced(const torch::Tensor& w, Start start) {
  std::vector<MPI_Request> requests;
  for (int64_t off = 0; off < w.numel(); off += kMaxCount) {
    requests.push_back(MPI_REQUEST_NULL);
    start(off, static_cast<int>(std::min(kMaxCount, w.numel() - off)), &requests.back());
  }
  return requests;
}

// An MPI_Iallreduce in flight on `work`; the sum lands in `target` on completion.
class MpiPendingSum final : public PendingCollective {
 public:
  MpiPendingSum(MpiCommunicator& comm, torch::Tensor target, torch::Tensor work, std::vector<MPI_Request> requests)
      : comm_(comm), target_(std::move(target)), work_(std::move(work)), requests_(std::move(requests)) {}
  ~MpiPendingSum() override {
    // Never waited (an exception is on its way to run_or_abort): MPI may still write into
    // the buffer, so it must outlive this handle. Leaked on purpose; the job is ending.
    if (!done_) new torch::Tensor(work_);
  }
  void wait() override {
    if (done_) return;
    // The timeout counts from here: before wait() this rank was busy, not waiting.
    comm_.complete(requests_, "all_reduce_sum", deadline_after(comm_.timeout_s()));
    finish();
  }
  bool test() override {
    if (!done_ && comm_.test(requests_)) finish();
    return done_;
  }

 private:
  void finish() {
    done_ = true;
    if (!work_.is_same(target_)) target_.copy_(work_);
  }
  MpiCommunicator& comm_;
  torch::Tensor target_, work_;
  std::vector<MPI_Request> requests_;
  bool done_ = false;
};

}  // namespace

MpiCommunicator::MpiCommunicator(const RankInfo& info, double timeout_s) : timeout_s_(timeout_s) {
  check(timeout_s > 0, "the collective timeout must be positive");
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
  // A collective timed out and the error was handled without ending the job: a rank is
  // stuck, and MPI_Finalize would wait for it.
  if (timed_out_ && size_ > 1) {
    log::error("rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
               " is leaving after a collective timed out -- ending the job");
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

void MpiCommunicator::check_usable(const char* what) const {
  if (timed_out_)
    fail_internal(std::string(what) + " on rank " + std::to_string(rank_) +
                  ": an earlier collective timed out, the ranks are out of step");
}

bool MpiCommunicator::test(std::vector<MPI_Request>& requests) {
  int flag = 0;
  ok(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &flag, MPI_STATUSES_IGNORE), "MPI_Testall");
  return flag != 0;
}

void MpiCommunicator::complete(std::vector<MPI_Request>& requests, const char* what, Clock::time_point deadline) {
  if (poll_until([&] { return test(requests); }, deadline)) return;
  // The requests stay in flight: MPI cannot cancel a collective. The job is about to end.
  timed_out_ = true;
  fail_timeout(rank_, what, timeout_s_);
}

void MpiCommunicator::all_reduce_sum(torch::Tensor& t) { all_reduce_sum_async(t)->wait(); }

std::unique_ptr<PendingCollective> MpiCommunicator::all_reduce_sum_async(torch::Tensor t) {
  check_usable("all_reduce_sum");
  // MPI was initialised MPI_THREAD_FUNNELED; a backward hook runs on the thread that called
  // backward() for CPU tensors, but check rather than corrupt MPI's state.
  int is_main = 0;
  ok(MPI_Is_thread_main(&is_main), "MPI_Is_thread_main");
  check(is_main != 0, "all_reduce_sum on rank " + std::to_string(rank_) +
                          ": MPI collectives must be started from the thread that initialised MPI");
  torch::Tensor work = contiguous_cpu(t);
  MPI_Datatype type = mpi_type(work.scalar_type());
  auto* base = static_cast<char*>(work.data_ptr());
  auto requests = start_sliced(work, [&](int64_t off, int count, MPI_Request* r) {
    ok(MPI_Iallreduce(MPI_IN_PLACE, base + off * work.element_size(), count, type, MPI_SUM, comm_, r),
       "MPI_Iallreduce");
  });
  return std::make_unique<MpiPendingSum>(*this, t, work, std::move(requests));
}

void MpiCommunicator::broadcast(torch::Tensor& t, int root) {
  check(root >= 0 && root < size_, "broadcast: root " + std::to_string(root) + " out of range");
  check_usable("broadcast");
  auto deadline = deadline_after(timeout_s_);
  torch::Tensor work = contiguous_cpu(t);
  MPI_Datatype type = mpi_type(work.scalar_type());
  auto* base = static_cast<char*>(work.data_ptr());
  auto requests = start_sliced(work, [&](int64_t off, int count, MPI_Request* r) {
    ok(MPI_Ibcast(base + off * work.element_size(), count, type, root, comm_, r), "MPI_Ibcast");
  });
  complete(requests, "broadcast", deadline);
  if (!work.is_same(t)) t.copy_(work);
}

void MpiCommunicator::broadcast_bytes(void* data, int bytes, int root) {
  check_usable("broadcast");
  auto deadline = deadline_after(timeout_s_);
  std::vector<MPI_Request> requests(1, MPI_REQUEST_NULL);
  ok(MPI_Ibcast(data, bytes, MPI_BYTE, root, comm_, &requests[0]), "MPI_Ibcast");
  complete(requests, "broadcast", deadline);
}

std::vector<std::string> MpiCommunicator::all_gather_bytes(const std::string& mine) {
  check_usable("all_gather_bytes");
  auto deadline = deadline_after(timeout_s_);  // one deadline for both exchanges
  // Lengths first, then the bytes at their offsets (MPI_Allgatherv counts are ints).
  long long my_len = static_cast<long long>(mine.size());
  std::vector<long long> lens(size_);
  std::vector<MPI_Request> requests(1, MPI_REQUEST_NULL);
  ok(MPI_Iallgather(&my_len, 1, MPI_LONG_LONG, lens.data(), 1, MPI_LONG_LONG, comm_, &requests[0]),
     "MPI_Iallgather");
  complete(requests, "all_gather_bytes", deadline);
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
  requests.assign(1, MPI_REQUEST_NULL);
  ok(MPI_Iallgatherv(mine.data(), static_cast<int>(my_len), MPI_BYTE, all.data(), counts.data(), offsets.data(),
                     MPI_BYTE, comm_, &requests[0]),
     "MPI_Iallgatherv");
  complete(requests, "all_gather_bytes", deadline);
  std::vector<std::string> out(size_);
  for (int r = 0; r < size_; ++r) out[r] = all.substr(offsets[r], counts[r]);
  return out;
}

void MpiCommunicator::barrier() {
  check_usable("barrier");
  auto deadline = deadline_after(timeout_s_);
  std::vector<MPI_Request> requests(1, MPI_REQUEST_NULL);
  ok(MPI_Ibarrier(comm_, &requests[0]), "MPI_Ibarrier");
  complete(requests, "barrier", deadline);
}

void MpiCommunicator::abort(int code) {
  std::fflush(nullptr);
  // Open MPI reports "MPI_ABORT was invoked on rank N" and kills every other rank.
  MPI_Abort(MPI_COMM_WORLD, code == 0 ? 1 : code);
  std::_Exit(code == 0 ? 1 : code);  // MPI_Abort does not return; this is for the compiler
}

std::unique_ptr<Communicator> make_mpi_communicator(const RankInfo& info, double timeout_s) {
  return std::make_unique<MpiCommunicator>(info, timeout_s);
}

}  // namespace mg::dist
#endif
