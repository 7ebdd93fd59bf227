// Benchmarks the custom kernels against their naive libtorch versions and prints one table:
// kernel, size, custom time, naive time, ratio, custom peak bytes, naive peak bytes, ratio.
// CPU rows always (small sizes); GPU rows when a GPU is visible. Peak bytes: on the CPU the
// most tensor bytes alive at once (CpuPeakMemory, a counting allocator); on the GPU the
// caching allocator's peak of allocated bytes above what was allocated before the call.
// Usage: bench_kernels [--cpu-only]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "kernels/cpu_peak_memory.h"
#include "kernels/logprob.h"
#include "kernels/sampling.h"
#include "tools/parse_args.h"
#ifdef MINDGAP_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

using mg::kernels::SamplingParams;

struct Measure {
  double seconds = 0;  // per call
  int64_t peak_bytes = 0;
};

void sync(const torch::Device& d) {
#ifdef MINDGAP_HAVE_CUDA
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
#endif
  (void)d;
}

// Peak bytes of one call, then the mean time over repeated calls (at least `min_reps`, or until
// `min_seconds` have passed).
Measure measure(const torch::Device& dev, const std::function<void()>& fn, int min_reps, double min_seconds) {
  Measure m;
  fn();  // warm-up (and lazy initialisations outside the memory count)
  sync(dev);
  if (dev.is_cuda()) {
#ifdef MINDGAP_HAVE_CUDA
    namespace cca = c10::cuda::CUDACachingAllocator;
    const auto idx = dev.index() < 0 ? 0 : dev.index();
    const int64_t before = cca::getDeviceStats(idx).allocated_bytes[0].current;
    cca::resetPeakStats(idx);
    fn();
    sync(dev);
    m.peak_bytes = cca::getDeviceStats(idx).allocated_bytes[0].peak - before;
#endif
  } else {
    mg::kernels::CpuPeakMemory mem;
    fn();
    m.peak_bytes = mem.peak_bytes();
  }
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  int reps = 0;
  double elapsed = 0;
  while (reps < min_reps || elapsed < min_seconds) {
    fn();
    sync(dev);
    ++reps;
    elapsed = std::chrono::duration<double>(clock::now() - t0).count();
    if (reps >= 1000) break;
  }
  m.seconds = elapsed / reps;
  return m;
}

struct Row {
  std::string kernel, size;
  Measure custom, naive;
};

std::string fmt_time(double s) {
  char buf[32];
  if (s < 1e-3)
    std::snprintf(buf, sizeof buf, "%.1f us", s * 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f ms", s * 1e3);
  return buf;
}

std::string fmt_bytes(int64_t b) {
  char buf[32];
  if (b < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1024.0 * 1024.0));
  return buf;
}

void print(const std::vector<Row>& rows) {
  std::printf("| kernel | size | custom time | naive time | speed-up (naive/custom) | custom peak | naive peak | peak ratio (custom/naive) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows)
    std::printf("| %s | %s | %s | %s | %.2fx | %s | %s | %.3f |\n", r.kernel.c_str(), r.size.c_str(),
                fmt_time(r.custom.seconds).c_str(), fmt_time(r.naive.seconds).c_str(), r.naive.seconds / r.custom.seconds,
                fmt_bytes(r.custom.peak_bytes).c_str(), fmt_bytes(r.naive.peak_bytes).c_str(),
                r.naive.peak_bytes > 0 ? static_cast<double>(r.custom.peak_bytes) / r.naive.peak_bytes : 0.0);
  std::fflush(stdout);
}

void bench_sampling(std::vector<Row>& rows, const torch::Device& dev, int64_t B, int64_t V, double T, int64_t k,
                    double top_p, int reps, double secs) {
  torch::manual_seed(1);
  const auto logits = (torch::randn({B, V}) * 3.0).to(dev);
  const auto seed = torch::arange(B, torch::kInt64).to(dev);
  const auto offset = torch::zeros({B}, torch::kInt64).to(dev);
  const SamplingParams p = mg::kernels::uniform_params(B, T, k, top_p, 0.0, seed, offset);
  Row r;
  r.kernel = std::string("sample ") + (dev.is_cuda() ? "gpu" : "cpu");
  char size[96];
  std::snprintf(size, sizeof size, "B=%ld V=%ld T=%.1f k=%ld p=%.2f", long(B), long(V), T, long(k), top_p);
  r.size = size;
  r.custom = measure(dev, [&] { mg::kernels::sample(logits, p); }, reps, secs);
  r.naive = measure(dev, [&] { mg::kernels::sample_naive(logits, p); }, reps, secs);
  rows.push_back(r);
}

void bench_logprob(std::vector<Row>& rows, const torch::Device& dev, int64_t N, int64_t D, int64_t V,
                   torch::ScalarType dtype, bool backward, int reps, double secs) {
  torch::manual_seed(2);
  const auto H = (torch::randn({N, D}) * 0.5).to(dev, dtype);
  const auto W = (torch::randn({V, D}) * (0.5 / std::sqrt(double(D)))).to(dev, dtype);
  const auto targets = torch::randint(0, V, {N}, torch::kInt64).to(dev);
  Row r;
  r.kernel = std::string(backward ? "logprob fwd+bwd " : "logprob fwd ") + (dev.is_cuda() ? "gpu" : "cpu");
  r.size = "N=" + std::to_string(N) + " D=" + std::to_string(D) + " V=" + std::to_string(V) + " " +
           (dtype == torch::kBFloat16 ? "bf16" : "fp32");
  if (!backward) {
    torch::NoGradGuard no_grad;
    r.custom = measure(dev, [&] { mg::kernels::token_logprob_entropy(H, W, targets, false); }, reps, secs);
    r.naive = measure(dev, [&] { mg::kernels::token_logprob_naive(H, W, targets); }, reps, secs);
  } else {
    auto run = [&](bool custom) {
      auto h = H.detach().requires_grad_(), w = W.detach().requires_grad_();
      const auto lp = custom ? mg::kernels::token_logprob(h, w, targets) : mg::kernels::token_logprob_naive(h, w, targets);
      lp.sum().backward();
    };
    r.custom = measure(dev, [&] { run(true); }, reps, secs);
    r.naive = measure(dev, [&] { run(false); }, reps, secs);
  }
  rows.push_back(r);
}

}  // namespace

int main(int argc, char** argv) {
  mg::ensure_passive_openmp(argv);
  mg::tune_allocator();
  bool cpu_only = false;
  CLI::App app{"the custom kernels against their naive libtorch versions: time and peak memory"};
  app.add_flag("--cpu-only", cpu_only, "CPU rows only, even when a GPU is visible");
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  mg::set_threads(1);
  std::vector<Row> rows;
  const torch::Device cpu(torch::kCPU);
  bench_sampling(rows, cpu, 32, 32000, 1.0, 0, 1.0, 3, 0.5);
  bench_sampling(rows, cpu, 32, 32000, 0.8, 50, 0.9, 3, 0.5);
  bench_sampling(rows, cpu, 32, 50257, 0.8, 50, 0.9, 3, 0.5);
  bench_logprob(rows, cpu, 256, 128, 32768, torch::kFloat32, false, 3, 0.5);
  bench_logprob(rows, cpu, 256, 128, 32768, torch::kFloat32, true, 2, 0.5);
  bench_logprob(rows, cpu, 256, 128, 32768, torch::kBFloat16, false, 2, 0.5);
  if (!cpu_only && torch::cuda::is_available()) {
    const torch::Device gpu(torch::kCUDA, 0);
    for (int64_t V : {32000, 50257}) {
      bench_sampling(rows, gpu, 256, V, 1.0, 0, 1.0, 20, 0.2);
      bench_sampling(rows, gpu, 256, V, 0.8, 50, 0.9, 20, 0.2);
      bench_sampling(rows, gpu, 256, V, 0.8, 0, 0.95, 20, 0.2);
    }
    for (auto dtype : {torch::kBFloat16, torch::kFloat32}) {
      bench_logprob(rows, gpu, 8192, 512, 32768, dtype, false, 10, 0.2);
      bench_logprob(rows, gpu, 8192, 512, 32768, dtype, true, 5, 0.2);
    }
  } else {
    std::printf("(no GPU rows: %s)\n", cpu_only ? "--cpu-only" : "no GPU visible");
  }
  print(rows);
  std::printf("\nsample cpu: the twin's per-row scratch lives in std::vector (about 21 bytes x V per thread\n"
              "at a time), outside the tensor-byte count; its peak column shows the tensors only.\n");
  return 0;
}
