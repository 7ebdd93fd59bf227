// The CPU sampling twin selects its thresholds partially (a k-heap for top-k, a growing partial
// sort for top-p) and keeps only candidate tokens. Here it is checked against the dense
// formulation it replaced (every token's tempered logit, mass and flag over all V, a full
// nth_element and a full sort), which is kept below as the reference: tokens and log-probs must
// be bit-identical on random rows with ties, -inf entries and every filter combination.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/philox.h"
#include "kernels/sampling.h"
#include "kernels/sampling_row.h"

namespace mg::kernels {
namespace {

using sampling_detail::RowSettings;

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

struct Case {
  int64_t V;
  float temperature;
  int64_t top_k;
  float top_p, min_p;
};

TEST(SamplingPartialSelection, EqualsTheDenseFormulationBitForBit) {
  const std::vector<Case> cases = {
      {1, 1.0f, 0, 1.0f, 0.0f},     {7, 0.7f, 3, 1.0f, 0.0f},    {33, 1.3f, 0, 0.9f, 0.0f},
      {100, 0.8f, 50, 0.9f, 0.0f},  {257, 1.0f, 0, 0.95f, 0.05f}, {1000, 0.5f, 1, 1.0f, 0.0f},
      {1000, 2.0f, 999, 0.3f, 0.0f}, {4099, 0.8f, 0, 0.99f, 0.0f}, {4099, 1.0f, 64, 0.0f, 0.0f},
      {32000, 0.8f, 50, 0.9f, 0.0f}, {32000, 0.8f, 0, 0.95f, 0.0f}, {32000, 1.0f, 0, 1.0f, 0.1f},
      {500, 3.0f, 40, 1.0f, 0.0f},  {500, 0.3f, 7, 0.5f, 0.0f}};
  int64_t rows = 0;
  for (const auto& c : cases) {
    for (int variant = 0; variant < 4; ++variant) {
      torch::manual_seed(100 + rows);
      const int64_t B = 6;
      auto logits = torch::randn({B, c.V}) * 3.0;
      if (variant == 1) logits = (logits * 2).round() / 2;  // many ties, at every threshold
      if (variant == 2) logits.masked_fill_(torch::rand({B, c.V}) < 0.3, -std::numeric_limits<float>::infinity());
      // Neighbouring floats: distinct logits that the division by the temperature can make equal.
      if (variant == 3) logits = 1.0f + torch::randint(0, 8, {B, c.V}).to(torch::kFloat32) * 1.1920929e-7f;
      const auto seed = torch::arange(B, torch::kInt64) + 7 * rows;
      const auto offset = torch::full({B}, variant, torch::kInt64);
      const auto p = uniform_params(B, c.temperature, c.top_k, c.top_p, c.min_p, seed, offset);
      const auto got = sample_cpu(logits, p);
      const auto support = sampling_support_cpu(logits, p);
      const auto flags = support.accessor<bool, 2>();
      for (int64_t b = 0; b < B; ++b, ++rows) {
        const RowSettings s{c.temperature, c.top_k, c.top_p, c.min_p, static_cast<uint64_t>(seed[b].item<int64_t>()),
                            static_cast<uint64_t>(variant)};
        const auto row = logits[b].contiguous();
        const RowSupport ref = row_support(row.data_ptr<float>(), c.V, s);
        const auto [token, lp] = draw(ref, s);
        EXPECT_EQ(got.tokens[b].item<int64_t>(), token) << "V=" << c.V << " k=" << c.top_k << " p=" << c.top_p;
        const float got_lp = got.logprob[b].item<float>();
        EXPECT_TRUE(got_lp == lp || (std::isnan(got_lp) && std::isnan(lp))) << got_lp << " vs " << lp;
        for (int64_t i = 0; i < c.V; ++i)
          ASSERT_EQ(flags[b][i], ref.greedy ? i == ref.argmax : ref.kept[i] != 0) << "token " << i << " V=" << c.V;
      }
    }
  }
  EXPECT_EQ(rows, static_cast<int64_t>(cases.size()) * 4 * 6);
}

}  // namespace
}  // namespace mg::kernels
