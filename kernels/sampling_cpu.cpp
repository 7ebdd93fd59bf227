// CPU twin of the sampling kernel: the same rule (kernels/sampling.h), row by row, with the
// same Philox uniform and the same bit-exact exp (sampling_row.h). Thresholds are exact order
// statistics (nth_element / a sort of the survivors); masses are summed in float64, in
// another order than on the GPU, which is the only source of difference left.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "kernels/sampling.h"
#include "kernels/sampling_row.h"

namespace mg::kernels {
namespace {

using sampling_detail::RowSettings;

struct Settings {
  torch::Tensor temperature, top_k, top_p, min_p, seed, offset;  // CPU, contiguous
  RowSettings row(int64_t b) const {
    return RowSettings{temperature.data_ptr<float>()[b], top_k.data_ptr<int64_t>()[b],
                       top_p.data_ptr<float>()[b],       min_p.data_ptr<float>()[b],
                       static_cast<uint64_t>(seed.data_ptr<int64_t>()[b]),
                       static_cast<uint64_t>(offset.data_ptr<int64_t>()[b])};
  }
};

Settings to_cpu(const SamplingParams& p) {
  auto c = [](const torch::Tensor& t, torch::ScalarType s) { return t.to(torch::kCPU, s).contiguous(); };
  return Settings{c(p.temperature, torch::kFloat32), c(p.top_k, torch::kInt64), c(p.top_p, torch::kFloat32),
                  c(p.min_p, torch::kFloat32),       c(p.seed, torch::kInt64),  c(p.offset, torch::kInt64)};
}

// The survivors of one row: kept[i] says whether token i may be drawn, e[i] = exp(z_i - max z).
struct RowSupport {
  bool greedy = false;
  int64_t argmax = 0;
  float max_z = 0.0f;
  std::vector<float> z, e;
  std::vector<char> kept;
};

int64_t first_argmax(const float* x, int64_t V) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; ++i)
    if (x[i] > x[best] || (std::isnan(x[best]) && !std::isnan(x[i]))) best = i;
  return best;
}

RowSupport row_support(const float* x, int64_t V, const RowSettings& s) {
  RowSupport r;
  if (sampling_detail::is_greedy(s)) {
    r.greedy = true;
    r.argmax = first_argmax(x, V);
    return r;
  }
  r.z.resize(V);
  for (int64_t i = 0; i < V; ++i) r.z[i] = x[i] / s.temperature;
  r.max_z = *std::max_element(r.z.begin(), r.z.end());
  r.e.assign(V, 0.0f);
  r.kept.assign(V, 0);
  if (r.max_z == -std::numeric_limits<float>::infinity()) return r;  // nothing has mass
  // top-k: the k-th largest value is the threshold; ties with it survive.
  float z_min = -std::numeric_limits<float>::infinity();
  if (sampling_detail::top_k_on(s, V)) {
    std::vector<float> tmp(r.z);
    std::nth_element(tmp.begin(), tmp.begin() + (s.top_k - 1), tmp.end(), std::greater<float>());
    z_min = tmp[s.top_k - 1];
  }
  for (int64_t i = 0; i < V; ++i) r.e[i] = r.z[i] >= z_min ? sampling_detail::exp_nonpositive(r.z[i] - r.max_z) : 0.0f;
  // top-p: walk the survivors from the most probable, a group of equal values at a time.
  if (sampling_detail::top_p_on(s)) {
    double total = 0.0;
    for (int64_t i = 0; i < V; ++i) total += r.e[i];
    const double target = static_cast<double>(s.top_p) * total;
    std::vector<int64_t> order;
    for (int64_t i = 0; i < V; ++i)
      if (r.e[i] > 0.0f) order.push_back(i);
    std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return r.z[a] > r.z[b]; });
    double cum = 0.0;
    for (size_t j = 0; j < order.size();) {
      const float v = r.z[order[j]];
      for (; j < order.size() && r.z[order[j]] == v; ++j) cum += r.e[order[j]];
      if (cum >= target) {
        z_min = std::max(z_min, v);
        break;
      }
    }
  }
  const float mp = sampling_detail::min_p_clamped(s);
  for (int64_t i = 0; i < V; ++i)
    r.kept[i] = r.z[i] >= z_min && r.e[i] > 0.0f && (mp <= 0.0f || r.e[i] >= mp);
  return r;
}

// Inverse CDF over the survivors in vocabulary order; returns (token, log-prob).
std::pair<int64_t, float> draw(const RowSupport& r, const RowSettings& s) {
  if (r.greedy) return {r.argmax, 0.0f};
  const int64_t V = static_cast<int64_t>(r.z.size());
  double total = 0.0;
  int64_t last = -1;
  for (int64_t i = 0; i < V; ++i)
    if (r.kept[i]) total += r.e[i], last = i;
  if (last < 0) return {0, std::numeric_limits<float>::quiet_NaN()};
  const double target = static_cast<double>(philox::uniform(s.seed, s.offset)) * total;
  double cum = 0.0;
  int64_t token = last;  // reached only when rounding leaves the target at the very end
  for (int64_t i = 0; i < V; ++i) {
    if (!r.kept[i]) continue;
    cum += r.e[i];
    if (cum > target) {
      token = i;
      break;
    }
  }
  return {token, static_cast<float>(static_cast<double>(r.z[token] - r.max_z) - std::log(total))};
}

}  // namespace

void check_sampling_inputs(const torch::Tensor& logits, const SamplingParams& p) {
  if (!logits.defined() || logits.dim() != 2 || logits.size(1) < 1)
    fail_input("sample: logits must be a [B, V] tensor with V >= 1");
  if (logits.scalar_type() != torch::kFloat32 && logits.scalar_type() != torch::kBFloat16)
    fail_input("sample: logits must be float32 or bfloat16");
  const int64_t B = logits.size(0);
  const torch::Tensor* fields[] = {&p.temperature, &p.top_k, &p.top_p, &p.min_p, &p.seed, &p.offset};
  const char* names[] = {"temperature", "top_k", "top_p", "min_p", "seed", "offset"};
  for (int i = 0; i < 6; ++i)
    if (!fields[i]->defined() || fields[i]->dim() != 1 || fields[i]->size(0) != B)
      fail_input(std::string("sample: SamplingParams.") + names[i] + " must be a 1-D tensor of length " +
                 std::to_string(B));
}

SampleResult sample_cpu(const torch::Tensor& logits, const SamplingParams& p) {
  check_sampling_inputs(logits, p);
  const auto x = logits.to(torch::kCPU, torch::kFloat32).contiguous();
  const Settings st = to_cpu(p);
  const int64_t B = x.size(0), V = x.size(1);
  auto tokens = torch::empty({B}, torch::kInt64);
  auto logprob = torch::empty({B}, torch::kFloat32);
  const float* xp = x.data_ptr<float>();
  int64_t* tp = tokens.data_ptr<int64_t>();
  float* lp = logprob.data_ptr<float>();
  // Rows are independent, so splitting them over threads cannot change any draw.
  at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const RowSettings s = st.row(b);
      const auto [tok, lpv] = draw(row_support(xp + b * V, V, s), s);
      tp[b] = tok;
      lp[b] = lpv;
    }
  });
  return {tokens.to(logits.device()), logprob.to(logits.device())};
}

torch::Tensor sampling_support_cpu(const torch::Tensor& logits, const SamplingParams& p) {
  check_sampling_inputs(logits, p);
  const auto x = logits.to(torch::kCPU, torch::kFloat32).contiguous();
  const Settings st = to_cpu(p);
  const int64_t B = x.size(0), V = x.size(1);
  auto support = torch::zeros({B, V}, torch::kBool);
  auto acc = support.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const RowSupport r = row_support(x.data_ptr<float>() + b * V, V, st.row(b));
    if (r.greedy) {
      acc[b][r.argmax] = true;
      continue;
    }
    for (int64_t i = 0; i < V; ++i) acc[b][i] = r.kept[i] != 0;
  }
  return support;
}

}  // namespace mg::kernels
