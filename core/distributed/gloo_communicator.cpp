// CPU ranks launched by torchrun or srun, over c10d's Gloo process group (PyTorch's "gloo"
// backend), its ranks meeting through the launch's TCPStore. MPI cannot serve these ranks:
// they were not started by mpirun. Collectives run on Gloo's worker threads; the calling
// thread waits for completion with a deadline, as the MPI backend does, so a rank that is
// alive but stuck makes the others fail instead of hang. A rank that dies closes its
// connections, and a rank waiting on it in a collective fails at once.
#ifdef MINDGAP_HAVE_GLOO
// ProcessGroupGloo.hpp declares nothing unless torch was built with Gloo, which the build
// checked (libtorch_cpu exports the class); the macro says so to the header.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/distributed/backends.h"
#include "core/distributed/collective_wait.h"
#include "core/distributed/store_bootstrap.h"
#include "core/errors.h"
#include "core/log.h"

namespace mg::dist {
namespace {

using Work = c10::intrusive_ptr<c10d::Work>;

void check_type(const torch::Tensor& t) {
  check(t.defined(), "Gloo collective on an undefined tensor");
  auto s = t.scalar_type();
  if (s != torch::kFloat32 && s != torch::kFloat64 && s != torch::kInt64 && s != torch::kInt32)
    fail_internal(std::string("Gloo collectives take float32, float64, int64 or int32 tensors, not ") +
                  c10::toString(s));
}

// A contiguous CPU tensor holding t's values: t itself, or a copy whose result the caller
// writes back.
torch::Tensor contiguous_cpu(const torch::Tensor& t) {
  check_type(t);
  return t.is_cpu() && t.is_contiguous() ? t : t.to(torch::kCPU).contiguous();
}

bool mentions_timeout(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.find("timed out") != std::string::npos;
}

class GlooCommunicator final : public Communicator {
 public:
  GlooCommunicator(const RankInfo& info, double timeout_s)
      : rank_(info.rank), size_(info.world_size), timeout_s_(timeout_s) {
    auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
    // A second communicator of the process meets under keys of its own; every rank creates
    // its communicators in the same order, so the numbers match.
    static int created = 0;
    store_ = open_store(info, "gloo/" + std::to_string(created++), timeout);
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    try {
      // The interface that PyTorch's own GLOO_SOCKET_IFNAME names, else the address this
      // host's name resolves to (the loopback if it resolves to nothing).
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname != nullptr && *ifname != '\0') {
        std::string first = ifname;
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(first.substr(0, first.find(','))));
      } else {
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, rank_, size_, opts);
    } catch (const std::exception& e) {
      fail_internal("rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                    ": Gloo could not connect the ranks (rendezvous at " + info.master_addr + ":" +
                    std::to_string(info.master_port) + "): " + error_text(e));
    }
  }

  ~GlooCommunicator() override {
    // Leaving while the others may wait on this rank (an exception unwinding past the
    // communicator, or a collective that failed): end the job rather than let Gloo's
    // shutdown wait for work that cannot finish.
    if (size_ > 1 && (std::uncaught_exceptions() > 0 || broken_)) {
      log::error("rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                 (broken_ ? " is leaving after a collective failed" : " is leaving with an exception in flight") +
                 " -- ending the job");
      abort(1);
    }
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend() const override { return "gloo"; }

  void all_reduce_sum(torch::Tensor& t) override { all_reduce_sum_async(t)->wait(); }

  std::unique_ptr<PendingCollective> all_reduce_sum_async(torch::Tensor t) override;

  void broadcast(torch::Tensor& t, int root) override {
    check(root >= 0 && root < size_, "broadcast: root " + std::to_string(root) + " out of range");
    auto deadline = deadline_after(timeout_s_);
    torch::Tensor work = contiguous_cpu(t);
    std::vector<at::Tensor> tensors{work};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    finish(start("broadcast", [&] { return pg_->broadcast(tensors, opts); }), "broadcast", deadline);
    if (!work.is_same(t)) t.copy_(work);
  }

  std::vector<std::string> all_gather_bytes(const std::string& mine) override {
    auto deadline = deadline_after(timeout_s_);  // one deadline for both exchanges
    // Gloo gathers equal sizes: the lengths first, then every buffer padded to the longest.
    auto lens = all_gather(torch::tensor({static_cast<int64_t>(mine.size())}, torch::kInt64), deadline);
    int64_t longest = 1;  // one byte at least: a valid buffer when all are empty
    for (auto& l : lens) longest = std::max(longest, l.item<int64_t>());
    auto padded = torch::zeros({longest}, torch::kUInt8);
    std::copy(mine.begin(), mine.end(), reinterpret_cast<char*>(padded.data_ptr<uint8_t>()));
    auto bufs = all_gather(padded, deadline);
    std::vector<std::string> out(size_);
    for (int r = 0; r < size_; ++r)
      out[r].assign(reinterpret_cast<const char*>(bufs[r].data_ptr<uint8_t>()), lens[r].item<int64_t>());
    return out;
  }

  void barrier() override {
    auto deadline = deadline_after(timeout_s_);
    finish(start("barrier", [&] { return pg_->barrier(); }), "barrier", deadline);
  }

  [[noreturn]] void abort(int code) override {
    // Gloo has no job-wide abort: this rank leaves, its connections close, and every rank
    // waiting on it fails; torchrun (and srun with --kill-on-bad-exit) also stops the others
    // when one rank exits with an error.
    std::fflush(nullptr);
    std::_Exit(code == 0 ? 1 : code);
  }

  // Starts a collective, turning Gloo's exceptions into mg::Error; refused once one failed,
  // because the ranks are then out of step.
  template <typename Fn>
  Work start(const char* what, Fn fn) {
    if (broken_)
      fail_internal(std::string(what) + " on rank " + std::to_string(rank_) +
                    ": an earlier collective failed, the ranks are out of step");
    try {
      return fn();
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }

  // Waits for `work` until `deadline`; its failure (a peer gone, Gloo's own timeout) or the
  // deadline passing marks the communicator broken and throws mg::Error naming `what`.
  void finish(const Work& work, const char* what, Clock::time_point deadline) {
    // A blocking wait on the work's condition variable, which Gloo's worker thread signals:
    // unlike MPI, Gloo progresses on its own threads, so polling would only burn a core.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    try {
      work->wait(std::max(left, std::chrono::milliseconds(1)));
    } catch (const std::exception& e) {
      if (!work->isCompleted()) {  // c10d gave up waiting, the collective is still in flight
        broken_ = true;
        fail_timeout(rank_, what, timeout_s_);
      }
      fail(what, e);
    }
  }

  double timeout_s() const { return timeout_s_; }
  bool completed(const Work& work) const { return work->isCompleted(); }

 private:
  [[noreturn]] void fail(const char* what, const std::exception& e) {
    broken_ = true;
    std::string text = error_text(e);
    if (mentions_timeout(text)) fail_timeout(rank_, what, timeout_s_);
    fail_internal("rank " + std::to_string(rank_) + ": " + what + " failed: " + text +
                  " (another rank died or its connection broke)");
  }

  // Every rank's copy of `mine` (same shape on every rank), in rank order.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& mine, Clock::time_point deadline) {
    std::vector<at::Tensor> in{mine};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < size_; ++r) out[0].push_back(torch::empty_like(mine));
    finish(start("all_gather_bytes", [&] { return pg_->allgather(out, in); }), "all_gather_bytes", deadline);
    return out[0];
  }

  int rank_, size_;
  double timeout_s_;
  c10::intrusive_ptr<c10d::Store> store_;  // rank 0 may serve it: kept for the whole job
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
  bool broken_ = false;
};

// An all-reduce on Gloo's worker thread; the sum lands in `target` on completion. A handle
// dropped unwaited is safe: the work object holds the buffer while Gloo writes into it.
class GlooPendingSum final : public PendingCollective {
 public:
  GlooPendingSum(GlooCommunicator& comm, Work work, torch::Tensor target, torch::Tensor buffer)
      : comm_(comm), work_(std::move(work)), target_(std::move(target)), buffer_(std::move(buffer)) {}
  void wait() override {
    if (done_) return;
    // The timeout counts from here: before wait() this rank was busy, not waiting.
    comm_.finish(work_, "all_reduce_sum", deadline_after(comm_.timeout_s()));
    done_ = true;
    if (!buffer_.is_same(target_)) target_.copy_(buffer_);
  }
  bool test() override {
    if (!done_ && comm_.completed(work_)) wait();
    return done_;
  }

 private:
  GlooCommunicator& comm_;
  Work work_;
  torch::Tensor target_, buffer_;
  bool done_ = false;
};

std::unique_ptr<PendingCollective> GlooCommunicator::all_reduce_sum_async(torch::Tensor t) {
  torch::Tensor buffer = contiguous_cpu(t);
  std::vector<at::Tensor> tensors{buffer};
  auto work = start("all_reduce_sum", [&] { return pg_->allreduce(tensors); });
  return std::make_unique<GlooPendingSum>(*this, std::move(work), t, buffer);
}

}  // namespace

std::unique_ptr<Communicator> make_gloo_communicator(const RankInfo& info, double timeout_s) {
  return std::make_unique<GlooCommunicator>(info, timeout_s);
}

}  // namespace mg::dist
#endif
