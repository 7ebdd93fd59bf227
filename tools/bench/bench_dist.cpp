// All-reduce bandwidth of the Communicator, a data-parallel training step of the tiny model
// with the gradient all-reduce after the backward pass or overlapped with it, and the
// data-parallel scaling the bandwidth predicts.
//   mpirun -np 2 --oversubscribe --bind-to none build/bench_dist            (CPU ranks, MPI)
//   mpirun -np <gpus> build/bench_dist --device cuda                        (NCCL)
//   build/bench_dist --step-ms 4.2                                          (prediction only)
// Bus bandwidth follows nccl-tests: busbw = algbw * 2(n-1)/n, algbw = bytes / time, so that
// it is comparable across rank counts and with published NCCL figures.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "core/distributed/communicator.h"
#include "core/distributed/grad_sync.h"
#include "core/distributed/overlapped_grad_sync.h"
#include "core/errors.h"
#include "core/runtime.h"
#include "models/gpt.h"
#include "tools/bench/bench_support.h"
#include "tools/parse_args.h"

namespace {

struct Options {
  std::string device = "cpu";
  int64_t min_bytes = 4 << 10;
  int64_t max_bytes = 64 << 20;
  int64_t params = 812'000;  // the tiny model of docs/design.md (fp32 gradients: ~3.2 MB)
  std::vector<double> step_ms = {1, 2, 5, 10, 20, 100};
  int gpus = 8;
  int step_batch = 32;  // sequences per rank in the training-step comparison
  int step_seq = 32;
  int steps = 7;        // timed steps per block of the comparison
  // Published nccl-tests all_reduce_perf busbw at large sizes, one node: 8x H100 SXM
  // (NVLink 4 + NVSwitch) 460-480 GB/s, 8x A100 SXM (NVLink 3) 230-250 GB/s. The latency
  // term is an assumption: ~20 us for a small single-node all-reduce.
  double latency_us = 20;
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--device", o.device, "cpu or cuda (NCCL)")->capture_default_str();
  app.add_option("--min-bytes", o.min_bytes, "smallest all-reduce measured")->capture_default_str();
  app.add_option("--max-bytes", o.max_bytes, "largest all-reduce measured (sizes step x4)")->capture_default_str();
  app.add_option("--params", o.params, "model parameters (fp32 gradients) for the prediction")->capture_default_str();
  app.add_option("--step-ms", o.step_ms, "step times to predict for, comma-separated (e.g. 1,2,5)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--gpus", o.gpus, "GPUs in the prediction")->capture_default_str();
  app.add_option("--latency-us", o.latency_us, "all-reduce latency assumed in the prediction")->capture_default_str();
  app.add_option("--step-batch", o.step_batch, "sequences per rank in the training-step comparison")
      ->capture_default_str();
  app.add_option("--step-seq", o.step_seq, "sequence length in the training-step comparison")->capture_default_str();
  app.add_option("--steps", o.steps, "timed steps per block of the training-step comparison")->capture_default_str();
}

// The slowest rank's value: a step is as slow as its slowest rank.
double slowest_rank(mg::Communicator& comm, double mine) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.9e", mine);  // std::to_string keeps only 6 decimals
  double slowest = 0;
  for (auto& s : comm.all_gather_bytes(text)) slowest = std::max(slowest, std::stod(s));
  return slowest;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Seconds per all-reduce of `bytes` of float32: the median over blocks of the slowest rank's
// block mean (a median, because other processes share the cores of a small machine).
double time_all_reduce(mg::Communicator& comm, const torch::Device& device, int64_t bytes) {
  auto t = torch::ones({std::max<int64_t>(1, bytes / 4)}, torch::TensorOptions().device(device));
  const int blocks = 7;
  int iters = static_cast<int>(std::clamp<int64_t>((int64_t{64} << 20) / bytes, 2, 50));
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  for (int i = 0; i < 3; ++i) comm.all_reduce_sum(t);  // warm-up: connections, buffers
  sync();
  std::vector<double> block_means;
  for (int b = 0; b < blocks; ++b) {
    comm.barrier();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) comm.all_reduce_sum(t);
    sync();
    double mine = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / iters;
    block_means.push_back(slowest_rank(comm, mine));
  }
  return median(block_means);
}

// One data-parallel step of the tiny model (docs/design.md's tiny shape, vocabulary 64) without the
// optimizer: forward, backward and the gradient all-reduce, after backward or overlapped.
void dp_step(mg::Gpt& model, mg::Communicator& comm, const torch::Tensor& tokens, bool overlap) {
  model->zero_grad();
  std::optional<mg::OverlappedGradSync> sync;
  if (overlap) sync.emplace(*model, comm);
  auto logits = model->forward(tokens.narrow(1, 0, tokens.size(1) - 1));
  auto target = tokens.narrow(1, 1, tokens.size(1) - 1);
  torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), target.reshape({-1})).backward();
  if (overlap) sync->finish();
  else mg::all_reduce_gradients(*model, comm);
}

// Milliseconds per step, after the backward pass and overlapped: blocks of each alternate, so
// that load from other processes falls on both; the median of the slowest rank's block means.
void compare_overlap(mg::Communicator& comm, const torch::Device& device, const Options& o) {
  mg::GptConfig cfg;
  cfg.vocab = 64;
  cfg.max_seq = std::max(64, o.step_seq);
  torch::manual_seed(1);
  mg::Gpt model(cfg);
  model->to(device);
  mg::broadcast_parameters(*model, comm);
  torch::manual_seed(100 + comm.rank());
  auto tokens = torch::randint(64, {o.step_batch, o.step_seq + 1}, torch::TensorOptions(torch::kInt64).device(device));
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize(device.index());
  };
  mg::OverlappedGradSync probe(*model, comm);  // only to report its bucket count
  size_t buckets = probe.buckets();
  probe.finish();
  for (bool overlap : {false, true}) dp_step(model, comm, tokens, overlap);  // warm-up
  std::vector<double> ms[2];
  for (int block = 0; block < 7; ++block) {
    for (int overlap = 0; overlap < 2; ++overlap) {
      comm.barrier();
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < o.steps; ++i) dp_step(model, comm, tokens, overlap != 0);
      sync();
      double mine = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / o.steps;
      ms[overlap].push_back(slowest_rank(comm, mine) * 1e3);
    }
  }
  double after = median(ms[0]), overlapped = median(ms[1]);
  if (comm.rank() == 0)
    std::printf("\ntraining step (forward + backward + gradient all-reduce, no optimizer), %lld parameters, "
                "batch %d x %d per rank, %zu overlapped buckets:\n  all-reduce after backward %8.2f ms\n"
                "  overlapped with backward  %8.2f ms   (%.2fx)\n",
                static_cast<long long>(model->num_parameters()), o.step_batch, o.step_seq, buckets, after,
                overlapped, after / overlapped);
}

void measure(mg::Communicator& comm, const torch::Device& device, const Options& o) {
  int n = comm.world_size();
  double factor = 2.0 * (n - 1) / n;
  if (comm.rank() == 0) {
    std::printf("all-reduce (sum, float32), backend %s, %d ranks, device %s\n", comm.backend().c_str(), n,
                device.str().c_str());
    std::printf("%12s %12s %14s %14s\n", "bytes", "time_us", "algbw_GB/s", "busbw_GB/s");
  }
  std::vector<int64_t> sizes;
  for (int64_t b = o.min_bytes; b <= o.max_bytes; b *= 4) sizes.push_back(b);
  sizes.push_back(o.params * 4);  // the tiny model's gradients in one bucket
  for (int64_t b : sizes) {
    double s = time_all_reduce(comm, device, b);
    if (comm.rank() == 0)
      std::printf("%12lld %12.1f %14.3f %14.3f%s\n", static_cast<long long>(b), s * 1e6, b / s / 1e9,
                  b / s / 1e9 * factor, b == o.params * 4 ? "   <- tiny model gradients" : "");
  }
}

// Weak scaling (the per-GPU batch fixed): each step adds one gradient all-reduce, not
// overlapped with the backward pass, so this is the pessimistic end.
void predict(const Options& o) {
  double bytes = o.params * 4.0;
  double factor = 2.0 * (o.gpus - 1) / o.gpus;
  struct Fabric {
    const char* name;
    double busbw_gbs;
  };
  const Fabric fabrics[] = {{"8x H100 SXM, NVLink4/NVSwitch (nccl-tests ~470 GB/s busbw)", 470},
                            {"8x A100 SXM, NVLink3 (nccl-tests ~240 GB/s busbw)", 240}};
  std::printf("\npredicted data-parallel scaling efficiency on %d GPUs: %lld parameters, %.2f MB of fp32 "
              "gradients per step,\nt_allreduce = %.0f us + 2(n-1)/n * bytes / busbw, efficiency = t_step / "
              "(t_step + t_allreduce)\n",
              o.gpus, static_cast<long long>(o.params), bytes / 1e6, o.latency_us);
  for (const auto& f : fabrics) {
    double t_ar = o.latency_us * 1e-6 + factor * bytes / (f.busbw_gbs * 1e9);
    std::printf("%s: t_allreduce %.1f us\n", f.name, t_ar * 1e6);
    std::printf("  %10s %14s %14s\n", "step_ms", "efficiency", "speedup_x8");
    for (double ms : o.step_ms) {
      double eff = ms * 1e-3 / (ms * 1e-3 + t_ar);
      std::printf("  %10.1f %13.1f%% %14.2f\n", ms, 100 * eff, eff * o.gpus);
    }
  }
}

int run(const Options& o) {
  mg::set_threads(1);
  auto info = mg::discover_ranks();
  torch::Device device = mg::pick_device(o.device, info.local_rank);
  auto comm = mg::make_communicator(info, device);
  mg::run_or_abort(*comm, [&] {
    if (comm->world_size() > 1) {
      measure(*comm, device, o);
      compare_overlap(*comm, device, o);
    } else std::printf("one rank: no all-reduce to measure (launch with mpirun -np 2)\n");
    if (comm->rank() == 0) predict(o);
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"all-reduce bandwidth of the Communicator, and the data-parallel scaling it predicts"};
  add_options(app, o);
  return mg::bench::run_main(argc, argv, app, [&] { return run(o); });
}
