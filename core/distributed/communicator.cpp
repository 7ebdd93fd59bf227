#include "core/distributed/communicator.h"

#include <cstdio>
#include <exception>

#include "core/distributed/backends.h"
#include "core/errors.h"
#include "core/log.h"

namespace mg {

void Communicator::all_reduce_mean(torch::Tensor& t) {
  check(t.is_floating_point(), "all_reduce_mean needs a floating-point tensor");
  all_reduce_sum(t);
  if (world_size() > 1) t.div_(static_cast<double>(world_size()));
}

void Communicator::agree(bool ok, const std::string& what) {
  // One byte per rank: cheap, and every backend can gather bytes.
  auto flags = all_gather_bytes(ok ? "1" : "0");
  std::vector<int> failed;
  for (size_t r = 0; r < flags.size(); ++r)
    if (flags[r] != "1") failed.push_back(static_cast<int>(r));
  if (!failed.empty()) fail_internal(what + ": failed on " + dist::name_ranks(failed));
}

std::unique_ptr<PendingCollective> Communicator::all_reduce_sum_async(torch::Tensor t) {
  // Done by the time it returns, so the handle has nothing left to do.
  struct Completed final : PendingCollective {
    void wait() override {}
    bool test() override { return true; }
  };
  all_reduce_sum(t);
  return std::make_unique<Completed>();
}

std::unique_ptr<Communicator> make_communicator(const RankInfo& info, const torch::Device& device, double timeout_s) {
  if (info.world_size < 1 || info.rank < 0 || info.rank >= info.world_size)
    fail_input("invalid rank " + std::to_string(info.rank) + " of " + std::to_string(info.world_size));
  if (!(timeout_s > 0)) fail_input("the collective timeout must be positive, got " + std::to_string(timeout_s));
  if (info.world_size == 1) return dist::make_single_communicator();
  if (device.is_cuda()) {
#ifdef MINDGAP_HAVE_NCCL
    return dist::make_nccl_communicator(info, device, timeout_s);
#else
    fail_input("CUDA ranks need NCCL, and this mindgap was built without it (needs CUDA and MPI)");
#endif
  }
  if (info.launcher == "mpirun") {
#ifdef MINDGAP_HAVE_MPI
    return dist::make_mpi_communicator(info, timeout_s);
#else
    fail_input(std::to_string(info.world_size) + " CPU ranks launched by mpirun need MPI, and this mindgap was "
               "built without it (MINDGAP_MPI=OFF or no MPI found)");
#endif
  }
#ifdef MINDGAP_HAVE_GLOO
  return dist::make_gloo_communicator(info, timeout_s);
#else
  fail_input(std::to_string(info.world_size) + " CPU ranks launched by " + info.launcher +
             " need Gloo, and this mindgap was built without it (MINDGAP_GLOO=OFF, or no gloo headers: "
             "install libgloo-dev); launch CPU ranks with mpirun instead");
#endif
}

void run_or_abort(Communicator& comm, const std::function<void()>& body) {
  if (comm.world_size() == 1) {
    body();
    return;
  }
  int code = 1;
  std::string message;
  try {
    body();
    return;
  } catch (const Error& e) {
    // Every rank stops at the same agreed safe point (core/run/stop_signal.h): an orderly end.
    if (e.stopped()) throw;
    code = e.exit_code();
    message = e.what();
  } catch (const std::exception& e) {
    message = e.what();
  }
  log::error("rank " + std::to_string(comm.rank()) + " of " + std::to_string(comm.world_size()) +
             " failed: " + message + " -- ending the job");
  comm.abort(code);
}

namespace dist {

std::string name_ranks(const std::vector<int>& ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) out += (i ? ", " : "") + std::to_string(ranks[i]);
  return out;
}

}  // namespace dist
}  // namespace mg
