// CPU twin of the sampling kernel: the same rule (kernels/sampling.h), row by row, with the
// same Philox uniform and the same bit-exact exp (sampling_row.h). Thresholds are exact order
// statistics (a k-heap for top-k, a growing partial sort for top-p); masses are summed in
// float64, in another order than on the GPU, which is the only source of difference left.
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

// The survivors of one row, as a list of candidates in vocabulary order: idx[j] is a token that
// passed top-k with mass (e[j] = exp(z[j] - max z) > 0), kept[j] whether it also passes top-p and
// min-p. Tokens outside the list cannot be drawn. With top-k on the list is about k long, so
// nothing after the first pass touches all V tokens.
struct RowSupport {
  bool greedy = false;
  int64_t argmax = 0;
  float max_z = 0.0f;
  std::vector<int64_t> idx;
  std::vector<float> z, e;
  std::vector<char> kept;
};

int64_t first_argmax(const float* x, int64_t V) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; ++i)
    if (x[i] > x[best] || (std::isnan(x[best]) && !std::isnan(x[i]))) best = i;
  return best;
}

// A raw logit below the k-th largest can still tie with it once divided by the temperature
// (rounding), so the cheap raw test keeps a margin of 8 ulps and more below a threshold v; the
// exact tempered test decides inside it. Monotone in v.
float raw_floor(float v) { return v - std::max(std::fabs(v) * 1e-6f, 1e-30f); }

// One pass over the raw logits: the largest (the first by operator<, as std::max_element picks
// it, NaN included) and, when k > 0, the k-th largest and the tokens that can reach it. A
// min-heap holds the k largest seen; its smallest only grows, so every token at or above
// raw_floor(final k-th) was at or above raw_floor(smallest then) when seen and is collected
// (about k + k ln(V/k) tokens on random logits). Dividing by the temperature is monotone, so
// these are the tempered order statistics once divided.
struct RawTop {
  float max = 0.0f, kth = 0.0f;
  std::vector<int64_t> candidates;  // ascending; every token when k == 0
};
// The first largest by operator< (as std::max_element picks it, NaN included). Its own function:
// inlined into the row's code, GCC kept the running maximum on the stack (5 cycles a token).
[[gnu::noinline]] float first_max(const float* x, int64_t V) {
  float max = x[0];
  for (int64_t i = 1; i < V; ++i) max = max < x[i] ? x[i] : max;
  return max;
}

RawTop raw_top(const float* x, int64_t V, int64_t k) {
  const float max = first_max(x, V);
  RawTop t;
  t.max = t.kth = max;
  if (k <= 0) return t;
  std::vector<float> heap(x, x + k);  // k < V (top-k is on)
  std::make_heap(heap.begin(), heap.end(), std::greater<float>());
  for (int64_t i = 0; i < k; ++i) t.candidates.push_back(i);
  float smallest = heap.front(), floor = raw_floor(smallest);
  for (int64_t i = k;; ++i) {
    while (i < V && !(x[i] >= floor)) ++i;
    if (i >= V) break;
    if (x[i] > smallest) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<float>());
      heap.back() = x[i];
      std::push_heap(heap.begin(), heap.end(), std::greater<float>());
      smallest = heap.front();
      floor = raw_floor(smallest);
    }
    t.candidates.push_back(i);
  }
  t.kth = smallest;
  return t;
}

// The top-p threshold: walking the candidates from the most probable, a group of equal values at
// a time, the value of the group at which the mass reaches `target`. Only the `q` most probable
// are ordered (partial selection), q growing until the walk ends inside them; a walk that ends at
// the q-th value is still exact, since completing that group only adds mass.
float top_p_threshold(const RowSupport& r, double target) {
  const size_t m = r.idx.size();
  std::vector<uint32_t> order(m);
  for (size_t j = 0; j < m; ++j) order[j] = static_cast<uint32_t>(j);
  auto higher = [&](uint32_t a, uint32_t b) { return r.z[a] > r.z[b]; };
  for (size_t q = std::min<size_t>(m, 64);; q = std::min(m, q * 8)) {
    std::partial_sort(order.begin(), order.begin() + q, order.end(), higher);
    double cum = 0.0;
    for (size_t j = 0; j < q;) {
      const float v = r.z[order[j]];
      for (; j < q && r.z[order[j]] == v; ++j) cum += r.e[order[j]];
      if (cum >= target) return v;
    }
    if (q == m) return -std::numeric_limits<float>::infinity();  // rounding: the whole mass falls short
  }
}

RowSupport row_support(const float* x, int64_t V, const RowSettings& s) {
  RowSupport r;
  if (sampling_detail::is_greedy(s)) {
    r.greedy = true;
    r.argmax = first_argmax(x, V);
    return r;
  }
  const float T = s.temperature;
  const bool top_k = sampling_detail::top_k_on(s, V);
  const RawTop top = raw_top(x, V, top_k ? s.top_k : 0);
  r.max_z = top.max / T;
  if (r.max_z == -std::numeric_limits<float>::infinity()) return r;  // nothing has mass
  // top-k: the k-th largest tempered value is the threshold; ties with it survive.
  float z_min = top_k ? top.kth / T : -std::numeric_limits<float>::infinity();
  auto consider = [&](int64_t i) {
    const float z = x[i] / T;
    if (!(z >= z_min)) return;
    const float e = sampling_detail::exp_nonpositive(z - r.max_z);
    if (e > 0.0f) {
      r.idx.push_back(i);
      r.z.push_back(z);
      r.e.push_back(e);
    }
  };
  if (top_k)
    for (int64_t i : top.candidates) consider(i);
  else
    for (int64_t i = 0; i < V; ++i) consider(i);
  // top-p over the top-k survivors; sums in vocabulary order, in float64.
  if (sampling_detail::top_p_on(s) && !r.idx.empty()) {
    double total = 0.0;
    for (float e : r.e) total += e;
    z_min = std::max(z_min, top_p_threshold(r, static_cast<double>(s.top_p) * total));
  }
  const float mp = sampling_detail::min_p_clamped(s);
  r.kept.resize(r.idx.size());
  for (size_t j = 0; j < r.idx.size(); ++j) r.kept[j] = r.z[j] >= z_min && (mp <= 0.0f || r.e[j] >= mp);
  return r;
}

// Inverse CDF over the survivors in vocabulary order; returns (token, log-prob).
std::pair<int64_t, float> draw(const RowSupport& r, const RowSettings& s) {
  if (r.greedy) return {r.argmax, 0.0f};
  double total = 0.0;
  int64_t last = -1;
  for (size_t j = 0; j < r.idx.size(); ++j)
    if (r.kept[j]) total += r.e[j], last = static_cast<int64_t>(j);
  if (last < 0) return {0, std::numeric_limits<float>::quiet_NaN()};
  const double target = static_cast<double>(philox::uniform(s.seed, s.offset)) * total;
  double cum = 0.0;
  int64_t pick = last;  // reached only when rounding leaves the target at the very end
  for (size_t j = 0; j < r.idx.size(); ++j) {
    if (!r.kept[j]) continue;
    cum += r.e[j];
    if (cum > target) {
      pick = static_cast<int64_t>(j);
      break;
    }
  }
  return {r.idx[pick], static_cast<float>(static_cast<double>(r.z[pick] - r.max_z) - std::log(total))};
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
    for (size_t j = 0; j < r.idx.size(); ++j) acc[b][r.idx[j]] = r.kept[j] != 0;
  }
  return support;
}

}  // namespace mg::kernels
