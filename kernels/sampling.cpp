// Sampling dispatcher (CUDA kernel or CPU twin) and the sort-based libtorch reference.
#include "kernels/sampling.h"

#include <torch/torch.h>

#include "core/errors.h"
#include "kernels/philox.h"
#include "kernels/sampling_cuda.h"
#ifdef MINDGAP_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace mg::kernels {

SamplingParams uniform_params(int64_t B, double temperature, int64_t top_k, double top_p, double min_p,
                              const torch::Tensor& seed, const torch::Tensor& offset) {
  if (!seed.defined() || !offset.defined() || seed.numel() != B || offset.numel() != B)
    fail_input("uniform_params: seed and offset must hold B = " + std::to_string(B) + " values");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(seed.device());
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(seed.device());
  return SamplingParams{torch::full({B}, temperature, f32),   torch::full({B}, top_k, i64),
                        torch::full({B}, top_p, f32),         torch::full({B}, min_p, f32),
                        seed.reshape({B}).to(torch::kInt64),  offset.reshape({B}).to(offset.device(), torch::kInt64)};
}

SampleResult sample(const torch::Tensor& logits, const SamplingParams& p) {
  if (!logits.defined() || !logits.is_cuda()) return sample_cpu(logits, p);
#ifdef MINDGAP_HAVE_CUDA
  check_sampling_inputs(logits, p);
  c10::cuda::CUDAGuard guard(logits.device());
  const auto x = logits.contiguous();
  auto on = [&](const torch::Tensor& t, torch::ScalarType s) { return t.to(logits.device(), s).contiguous(); };
  const auto temperature = on(p.temperature, torch::kFloat32), top_k = on(p.top_k, torch::kInt64),
             top_p = on(p.top_p, torch::kFloat32), min_p = on(p.min_p, torch::kFloat32),
             seed = on(p.seed, torch::kInt64), offset = on(p.offset, torch::kInt64);
  const int64_t B = x.size(0), V = x.size(1);
  auto tokens = torch::empty({B}, x.options().dtype(torch::kInt64));
  auto logprob = torch::empty({B}, x.options().dtype(torch::kFloat32));
  sampling_cuda_launch(x.data_ptr(), x.scalar_type() == torch::kBFloat16, B, V, temperature.data_ptr<float>(),
                       top_k.data_ptr<int64_t>(), top_p.data_ptr<float>(), min_p.data_ptr<float>(),
                       seed.data_ptr<int64_t>(), offset.data_ptr<int64_t>(), tokens.data_ptr<int64_t>(),
                       logprob.data_ptr<float>(), c10::cuda::getCurrentCUDAStream().stream());
  return {tokens, logprob};
#else
  fail_input("this mindgap was built without CUDA kernels (MINDGAP_CUDA=OFF)");
#endif
}

torch::Tensor sampling_probs_naive(const torch::Tensor& logits, const SamplingParams& p) {
  check_sampling_inputs(logits, p);
  using torch::indexing::Slice;
  const auto dev = logits.device();
  const auto x = logits.to(torch::kFloat32);
  const int64_t V = x.size(1);
  const auto T = p.temperature.to(dev, torch::kFloat32);
  const auto greedy = T <= 0;
  // z in fp32 as the kernels compute it, everything after in float64.
  const auto z = (x / torch::where(greedy, torch::ones_like(T), T).unsqueeze(1)).to(torch::kFloat64);
  const double inf = std::numeric_limits<double>::infinity();
  auto [sorted, order] = z.sort(1, /*descending=*/true);
  // top-k: the k-th largest value (ties kept).
  const auto k = p.top_k.to(dev, torch::kInt64);
  const auto k_on = (k > 0) & (k < V);
  const auto kth = sorted.gather(1, (k.clamp(1, V) - 1).unsqueeze(1)).squeeze(1);
  auto z_min = torch::where(k_on, kth, torch::full_like(kth, -inf));
  auto masked = torch::where(z >= z_min.unsqueeze(1), z, torch::full_like(z, -inf));
  const auto probs1 = torch::softmax(masked, 1);
  // top-p: the first sorted position whose cumulative mass reaches top_p; its value is the cut.
  const auto top_p = p.top_p.to(dev, torch::kFloat32).to(torch::kFloat64);
  const auto cum = probs1.gather(1, order).cumsum(1);
  auto reached = cum >= top_p.unsqueeze(1);
  reached.index_put_({Slice(), V - 1}, true);
  const auto cut_pos = reached.to(torch::kInt32).argmax(1, /*keepdim=*/true);
  const auto cut = sorted.gather(1, cut_pos).squeeze(1);
  z_min = torch::where(top_p < 1.0, torch::maximum(z_min, cut), z_min);
  // min-p: relative to the most probable token, i.e. exp(z - max z) >= min_p.
  const auto zmax = std::get<0>(z.max(1, true));
  const auto rel = torch::exp(z - zmax);
  const auto min_p = p.min_p.to(dev, torch::kFloat32).to(torch::kFloat64).clamp_max(1.0).unsqueeze(1);
  const auto keep = (z >= z_min.unsqueeze(1)) & ((min_p <= 0) | (rel >= min_p)) & (rel > 0);
  auto probs = torch::where(keep, rel, torch::zeros_like(rel));
  probs = probs / probs.sum(1, true);
  // Greedy rows: one-hot at the first maximal logit.
  const auto onehot = torch::zeros_like(probs).scatter_(1, x.argmax(1, true), 1.0);
  return torch::where(greedy.unsqueeze(1), onehot, probs);
}

SampleResult sample_naive(const torch::Tensor& logits, const SamplingParams& p) {
  const auto probs = sampling_probs_naive(logits, p);
  const int64_t B = probs.size(0);
  // The same Philox uniforms as the kernels, one per row.
  const auto seed = p.seed.to(torch::kCPU, torch::kInt64).contiguous();
  const auto offset = p.offset.to(torch::kCPU, torch::kInt64).contiguous();
  auto u = torch::empty({B}, torch::kFloat64);
  for (int64_t b = 0; b < B; ++b)
    u.data_ptr<double>()[b] = philox::uniform(static_cast<uint64_t>(seed.data_ptr<int64_t>()[b]),
                                              static_cast<uint64_t>(offset.data_ptr<int64_t>()[b]));
  const auto cum = probs.cumsum(1);
  const auto target = u.to(probs.device()).unsqueeze(1) * cum.narrow(1, probs.size(1) - 1, 1);
  const auto tokens = (cum <= target).sum(1).clamp_max(probs.size(1) - 1);
  const auto lp = probs.gather(1, tokens.unsqueeze(1)).squeeze(1).log().to(torch::kFloat32);
  return {tokens, lp};
}

}  // namespace mg::kernels
