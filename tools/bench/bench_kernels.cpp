// Benchmarks the custom kernels against what a PyTorch user would write (softmax/topk +
// multinomial; F.cross_entropy) and against their plain references, alternated in one run, and
// prints one table: time per call (min/median/max over rounds), ratio, peak bytes.
// CPU rows always (small sizes); GPU rows when a GPU is visible.
// Usage: bench_kernels [--cpu-only] [--rounds N] [--only NAME]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "core/runtime.h"
#include "kernels/decode_attention.h"
#include "kernels/logprob.h"
#include "kernels/sampling.h"
#include "models/rope.h"
#include "tools/bench/bench_support.h"
#include "tools/bench/cpu_peak_memory.h"
#include "tools/parse_args.h"
#ifdef MINDGAP_HAVE_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

using mg::kernels::SamplingParams;

void sync_device(const torch::Device& d) {
#ifdef MINDGAP_HAVE_CUDA
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
#endif
  (void)d;
}

// One side of a comparison: a name and the call to time.
struct Side {
  std::string name;
  std::function<void()> fn;
};

// A kernel against its baselines. Each round times `reps` calls of every side, in an order that
// rotates from round to round, so that load from other processes falls on all sides alike; the
// table gives min/median/max over rounds of the time per call and of each baseline's ratio.
struct Comparison {
  std::string kernel, size;
  Side custom;
  std::vector<Side> baselines;
  std::vector<std::vector<double>> seconds;  // [side][round], side 0 = custom
  std::vector<int64_t> peak_bytes;           // [side]
};

// Peak bytes of one call: on the CPU the most tensor bytes alive at once (CpuPeakMemory, a
// counting allocator); on the GPU the caching allocator's peak above what was allocated before.
int64_t peak_bytes(const torch::Device& dev, const std::function<void()>& fn) {
  fn();  // warm-up (and lazy initialisations outside the memory count)
  sync_device(dev);
  if (dev.is_cuda()) {
#ifdef MINDGAP_HAVE_CUDA
    namespace cca = c10::cuda::CUDACachingAllocator;
    const auto idx = dev.index() < 0 ? 0 : dev.index();
    const int64_t before = cca::getDeviceStats(idx).allocated_bytes[0].current;
    cca::resetPeakStats(idx);
    fn();
    sync_device(dev);
    return cca::getDeviceStats(idx).allocated_bytes[0].peak - before;
#endif
  }
  mg::bench::CpuPeakMemory mem;
  fn();
  return mem.peak_bytes();
}

void run(Comparison& c, const torch::Device& dev, int rounds, int reps) {
  std::vector<const Side*> sides = {&c.custom};
  for (const auto& b : c.baselines) sides.push_back(&b);
  c.seconds.assign(sides.size(), {});
  for (const auto* s : sides) c.peak_bytes.push_back(peak_bytes(dev, s->fn));
  for (int r = 0; r < rounds; ++r)
    for (size_t j = 0; j < sides.size(); ++j) {
      const size_t i = (j + r) % sides.size();
      const auto t0 = mg::bench::Clock::now();
      for (int k = 0; k < reps; ++k) sides[i]->fn();
      sync_device(dev);
      c.seconds[i].push_back(mg::bench::seconds_since(t0) / reps);
    }
}

std::string fmt_time(double s) { return s < 1e-3 ? mg::bench::fmt(s * 1e6, "%.0f us") : mg::bench::fmt(s * 1e3, "%.2f ms"); }

std::string fmt_bytes(int64_t b) {
  const double kib = static_cast<double>(b) / 1024.0;
  return kib < 1024 ? mg::bench::fmt(kib, "%.1f KiB") : mg::bench::fmt(kib / 1024.0, "%.1f MiB");
}

std::string time_mmm(const std::vector<double>& v) {
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt_time(*lo) + " / " + fmt_time(mg::bench::median(v)) + " / " + fmt_time(*hi);
}

void print(const std::vector<Comparison>& rows, int rounds) {
  std::printf("Alternated: %d rounds; min / median / max over rounds. Ratio = baseline time / custom time\n"
              "(> 1: the custom kernel is faster). Peak ratio = custom peak / baseline peak.\n\n", rounds);
  std::printf("| kernel | size | custom time | baseline | baseline time | ratio | custom peak | baseline peak | peak ratio |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& c : rows)
    for (size_t b = 0; b < c.baselines.size(); ++b) {
      std::vector<double> ratio;
      for (size_t r = 0; r < c.seconds[0].size(); ++r) ratio.push_back(c.seconds[b + 1][r] / c.seconds[0][r]);
      std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %.3f |\n", c.kernel.c_str(), c.size.c_str(),
                  time_mmm(c.seconds[0]).c_str(), c.baselines[b].name.c_str(), time_mmm(c.seconds[b + 1]).c_str(),
                  mg::bench::mmm(ratio, "%.2f").c_str(), fmt_bytes(c.peak_bytes[0]).c_str(),
                  fmt_bytes(c.peak_bytes[b + 1]).c_str(),
                  c.peak_bytes[b + 1] > 0 ? static_cast<double>(c.peak_bytes[0]) / c.peak_bytes[b + 1] : 0.0);
    }
  std::fflush(stdout);
}

// What a PyTorch user writes: softmax + multinomial; with filters, topk (or a full sort for
// top-p alone) + softmax + cumsum mask + multinomial, in fp32.
torch::Tensor idiomatic_sample(const torch::Tensor& logits, double T, int64_t k, double top_p) {
  auto z = logits / T;
  if (k <= 0 && top_p >= 1.0) return z.softmax(-1).multinomial(1);
  auto [vals, idx] = k > 0 ? z.topk(k, -1) : z.sort(-1, /*descending=*/true);
  auto probs = vals.softmax(-1);
  if (top_p < 1.0) {
    auto cum = probs.cumsum(-1);
    probs = probs.masked_fill((cum - probs) > top_p, 0.0);
  }
  return idx.gather(-1, probs.multinomial(1));
}

Comparison sampling_row(const torch::Device& dev, int64_t B, int64_t V, double T, int64_t k, double top_p) {
  torch::manual_seed(1);
  const auto logits = (torch::randn({B, V}) * 3.0).to(dev);
  const auto seed = torch::arange(B, torch::kInt64).to(dev);
  const auto offset = torch::zeros({B}, torch::kInt64).to(dev);
  const SamplingParams p = mg::kernels::uniform_params(B, T, k, top_p, 0.0, seed, offset);
  Comparison c;
  c.kernel = std::string("sample ") + (dev.is_cuda() ? "gpu" : "cpu");
  c.size = mg::bench::fmt(double(B), "B=%.0f") + mg::bench::fmt(double(V), " V=%.0f") + mg::bench::fmt(T, " T=%.1f") +
           mg::bench::fmt(double(k), " k=%.0f") + mg::bench::fmt(top_p, " p=%.2f");
  c.custom = {"custom", [=] { mg::kernels::sample(logits, p); }};
  c.baselines = {{"PyTorch fp32 (softmax/topk + multinomial)", [=] { idiomatic_sample(logits, T, k, top_p); }},
                 {"sort-based fp64 reference", [=] { mg::kernels::sample_naive(logits, p); }}};
  return c;
}

Comparison logprob_row(const torch::Device& dev, int64_t N, int64_t D, int64_t V, torch::ScalarType dtype,
                       bool backward) {
  torch::manual_seed(2);
  const auto H = (torch::randn({N, D}) * 0.5).to(dev, dtype);
  const auto W = (torch::randn({V, D}) * (0.5 / std::sqrt(double(D)))).to(dev, dtype);
  const auto targets = torch::randint(0, V, {N}, torch::kInt64).to(dev);
  Comparison c;
  c.kernel = std::string(backward ? "logprob fwd+bwd " : "logprob fwd ") + (dev.is_cuda() ? "gpu" : "cpu");
  c.size = "N=" + std::to_string(N) + " D=" + std::to_string(D) + " V=" + std::to_string(V) + " " +
           (dtype == torch::kBFloat16 ? "bf16" : "fp32");
  // -F.cross_entropy(H @ W^T, targets, reduction='none'): logits materialised in fp32.
  auto cross_entropy = [](const torch::Tensor& h, const torch::Tensor& w, const torch::Tensor& t) {
    auto logits = torch::matmul(h, w.t()).to(torch::kFloat32);
    return -torch::nn::functional::cross_entropy(
        logits, t, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  };
  using Fn = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&)>;
  auto side = [=](Fn f) -> std::function<void()> {
    if (!backward)
      return [=] {
        torch::NoGradGuard no_grad;
        f(H, W, targets);
      };
    return [=] {
      auto h = H.detach().requires_grad_(), w = W.detach().requires_grad_();
      f(h, w, targets).sum().backward();
    };
  };
  if (backward) c.custom = {"custom", side([](auto& h, auto& w, auto& t) { return mg::kernels::token_logprob(h, w, t); })};
  else
    c.custom = {"custom", side([](auto& h, auto& w, auto& t) {
                  return mg::kernels::token_logprob_entropy(h, w, t, false).logprob;
                })};
  c.baselines = {{"PyTorch F.cross_entropy", side(cross_entropy)},
                 {"log_softmax + gather", side([](auto& h, auto& w, auto& t) {
                    return mg::kernels::token_logprob_naive(h, w, t);
                  })}};
  return c;
}

// One decoding step's attention for `layers` layers, each with its own cache (so that, as in a
// real step, the caches together need not fit the last-level cache), against what the module
// path does in operators: rotate q and k, write the slot, SDPA over the filled slots with the
// padding masked.
Comparison decode_attention_row(int64_t B, int64_t H, int64_t hd, int64_t cap, int64_t slot, int64_t layers) {
  torch::manual_seed(3);
  const int64_t D = H * hd;
  std::vector<torch::Tensor> qkv, kc, vc;
  for (int64_t l = 0; l < layers; ++l) {
    qkv.push_back(torch::randn({B, 3 * D}));
    kc.push_back(torch::randn({B, H, cap, hd}));
    vc.push_back(torch::randn({B, H, cap, hd}));
  }
  const auto key_start = torch::randint(0, 8, {B}, torch::kInt64);
  auto [cos, sin] = mg::rope_tables(slot - key_start, hd);
  const auto mask = (torch::arange(slot + 1, torch::kInt64).view({1, 1, 1, slot + 1}) >= key_start.view({B, 1, 1, 1}));
  Comparison c;
  c.kernel = "decode_attention cpu";
  c.size = "B=" + std::to_string(B) + " H=" + std::to_string(H) + " hd=" + std::to_string(hd) + " slot=" +
           std::to_string(slot) + "/" + std::to_string(cap) + " x" + std::to_string(layers) + " layers";
  c.custom = {"custom", [=]() mutable {
                c10::InferenceMode guard;
                for (int64_t l = 0; l < layers; ++l)
                  mg::kernels::decode_attention_cpu(qkv[l], kc[l], vc[l], slot, key_start, cos, sin, H);
              }};
  c.baselines = {{"operators: rope, slot copy, SDPA", [=]() mutable {
                    c10::InferenceMode guard;
                    for (int64_t l = 0; l < layers; ++l) {
                      auto heads = qkv[l].view({B, 3, H, 1, hd});
                      auto q = mg::apply_rope(heads.select(1, 0), cos.view({B, 1, 1, hd / 2}), sin.view({B, 1, 1, hd / 2}));
                      auto k = mg::apply_rope(heads.select(1, 1), cos.view({B, 1, 1, hd / 2}), sin.view({B, 1, 1, hd / 2}));
                      kc[l].narrow(2, slot, 1).copy_(k);
                      vc[l].narrow(2, slot, 1).copy_(heads.select(1, 2));
                      at::scaled_dot_product_attention(q, kc[l].narrow(2, 0, slot + 1), vc[l].narrow(2, 0, slot + 1),
                                                       mask);
                    }
                  }}};
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  mg::ensure_passive_openmp(argv);
  mg::tune_allocator();
  bool cpu_only = false;
  int rounds = 7;
  CLI::App app{"the custom kernels against idiomatic PyTorch and their references: time and peak memory"};
  app.add_flag("--cpu-only", cpu_only, "CPU rows only, even when a GPU is visible");
  app.add_option("--rounds", rounds, "alternated rounds per row")->capture_default_str();
  std::string only;
  app.add_option("--only", only, "rows whose kernel name contains this (e.g. decode, sample, logprob)");
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  mg::set_threads(1);
  std::vector<Comparison> rows;
  const torch::Device cpu(torch::kCPU);
  auto add = [&](Comparison c, const torch::Device& dev, int reps) {
    if (c.kernel.find(only) == std::string::npos) return;
    run(c, dev, rounds, reps);
    rows.push_back(std::move(c));
  };
  add(sampling_row(cpu, 32, 32000, 1.0, 0, 1.0), cpu, 3);
  add(sampling_row(cpu, 32, 32000, 0.8, 50, 0.9), cpu, 3);
  add(sampling_row(cpu, 32, 32000, 0.8, 0, 0.95), cpu, 3);
  add(sampling_row(cpu, 32, 50257, 0.8, 50, 0.9), cpu, 3);
  add(logprob_row(cpu, 256, 128, 32768, torch::kFloat32, false), cpu, 2);
  add(logprob_row(cpu, 256, 128, 32768, torch::kFloat32, true), cpu, 1);
  add(logprob_row(cpu, 256, 128, 32768, torch::kBFloat16, false), cpu, 1);
  // The tiny recipes' model at the long decode of bench_generate (B = 64, prompt + 128 slots).
  add(decode_attention_row(64, 4, 32, 143, 100, 4), cpu, 20);
  // The same with 4 rows: the caches fit the L2/L3 caches, so this row times the arithmetic.
  add(decode_attention_row(4, 4, 32, 143, 100, 4), cpu, 320);
  if (!cpu_only && torch::cuda::is_available()) {
    const torch::Device gpu(torch::kCUDA, 0);
    for (int64_t V : {32000, 50257}) {
      add(sampling_row(gpu, 256, V, 1.0, 0, 1.0), gpu, 20);
      add(sampling_row(gpu, 256, V, 0.8, 50, 0.9), gpu, 20);
      add(sampling_row(gpu, 256, V, 0.8, 0, 0.95), gpu, 20);
    }
    for (auto dtype : {torch::kBFloat16, torch::kFloat32}) {
      add(logprob_row(gpu, 8192, 512, 32768, dtype, false), gpu, 10);
      add(logprob_row(gpu, 8192, 512, 32768, dtype, true), gpu, 5);
    }
  } else {
    std::printf("(no GPU rows: %s)\n", cpu_only ? "--cpu-only" : "no GPU visible");
  }
  print(rows, rounds);
  std::printf("\nsample cpu: the twin's per-row scratch (its candidate tokens; with top-p alone, every token\n"
              "with mass) lives in std::vector, outside the tensor-byte count; its peak column shows tensors only.\n");
  return 0;
}
