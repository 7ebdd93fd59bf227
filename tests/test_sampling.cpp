// Sampling kernel: the CPU twin against the sort-based reference (exact support, draws, log-probs),
// a chi-square test of the draws, reproducibility, batch independence and greedy decoding;
// the CUDA kernel against the twin when a GPU is present.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/errors.h"
#include "kernels/philox.h"
#include "kernels/sampling.h"
#include "kernels/sampling_row.h"

namespace mg::kernels {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Random logits with ties (values on a grid of 0.25) and a sprinkling of -inf, never a row of
// -inf only.
torch::Tensor awkward_logits(int64_t B, int64_t V, uint64_t seed) {
  torch::manual_seed(seed);
  auto x = torch::round(torch::randn({B, V}) * 8.0) / 4.0;
  auto dead = torch::rand({B, V}) < 0.1;
  dead.select(1, 0).fill_(false);
  return torch::where(dead, torch::full_like(x, -kInf), x);
}

// Per-row settings cycling through combinations of the filters, greedy rows included.
SamplingParams mixed_params(int64_t B, uint64_t seed_base) {
  const std::vector<float> temps = {1.0f, 0.7f, 1.5f, 0.0f, 1.0f, 0.5f, 1.0f};
  const std::vector<int64_t> ks = {0, 5, 0, 0, 50, 1, 3};
  const std::vector<float> ps = {1.0f, 1.0f, 0.9f, 0.5f, 0.8f, 1.0f, 0.3f};
  const std::vector<float> mins = {0.0f, 0.0f, 0.0f, 0.0f, 0.05f, 0.0f, 0.2f};
  SamplingParams p;
  p.temperature = torch::empty({B}, torch::kFloat32);
  p.top_k = torch::empty({B}, torch::kInt64);
  p.top_p = torch::empty({B}, torch::kFloat32);
  p.min_p = torch::empty({B}, torch::kFloat32);
  for (int64_t b = 0; b < B; ++b) {
    // The cycles have coprime-ish lengths, so many combinations occur.
    p.temperature[b] = temps[b % temps.size()];
    p.top_k[b] = ks[(b / 2) % ks.size()];
    p.top_p[b] = ps[(b / 3) % ps.size()];
    p.min_p[b] = mins[(b / 5) % mins.size()];
  }
  p.seed = torch::arange(B, torch::kInt64) * 7919 + static_cast<int64_t>(seed_base);
  p.offset = torch::arange(B, torch::kInt64) % 13;
  return p;
}

SamplingParams slice_params(const SamplingParams& p, int64_t b) {
  auto s = [&](const torch::Tensor& t) { return t.narrow(0, b, 1).clone(); };
  return {s(p.temperature), s(p.top_k), s(p.top_p), s(p.min_p), s(p.seed), s(p.offset)};
}

TEST(SamplingExp, BitExactExpIsAccurate) {
  for (float x = -103.9f; x <= 0.0f; x += 0.0137f) {
    const double want = std::exp(static_cast<double>(x));
    const double got = sampling_detail::exp_nonpositive(x);
    EXPECT_NEAR(got, want, 3e-7 * want + 1e-44) << x;
  }
  EXPECT_EQ(sampling_detail::exp_nonpositive(0.0f), 1.0f);
  EXPECT_EQ(sampling_detail::exp_nonpositive(-kInf), 0.0f);
  EXPECT_EQ(sampling_detail::exp_nonpositive(-200.0f), 0.0f);
}

TEST(SamplingKeys, OrderPreservingAndZeroSigned) {
  const std::vector<float> v = {-kInf, -1e30f, -2.5f, -1e-40f, 0.0f, 1e-40f, 1.0f, 3e38f, kInf};
  for (size_t i = 0; i + 1 < v.size(); ++i)
    EXPECT_LT(sampling_detail::float_key(v[i]), sampling_detail::float_key(v[i + 1])) << v[i];
  EXPECT_EQ(sampling_detail::float_key(-0.0f), sampling_detail::float_key(0.0f));
  for (float f : v) EXPECT_EQ(sampling_detail::key_float(sampling_detail::float_key(f)), f);
}

// The GPU kernel's threshold searches (the shared make_grid / narrow of sampling_row.h),
// replayed on the host with plain loops in place of the block reductions: their support must be
// the CPU twin's, which takes its thresholds from nth_element and a sort.
template <typename Pred>
uint32_t search_largest_key(uint32_t lo, uint32_t hi, Pred pred) {
  int passes = 0;
  while (lo < hi) {
    const auto g = sampling_detail::make_grid(lo, hi);
    sampling_detail::narrow(g, [&](int j) { return pred(g.at(j)); }, lo, hi);
    EXPECT_LE(++passes, 8);
  }
  return lo;
}

torch::Tensor support_by_search(const torch::Tensor& logits, const SamplingParams& p) {
  using namespace sampling_detail;
  const int64_t B = logits.size(0), V = logits.size(1);
  auto support = torch::zeros({B, V}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    const RowSettings s{p.temperature[b].item<float>(), p.top_k[b].item<int64_t>(), p.top_p[b].item<float>(),
                        p.min_p[b].item<float>(), 0, 0};
    const float* x = logits.data_ptr<float>() + b * V;
    if (is_greedy(s)) {
      support[b][logits[b].argmax().item<int64_t>()] = true;
      continue;
    }
    std::vector<float> z(V), e(V);
    std::vector<uint32_t> key(V);
    float m = -kInf;
    for (int64_t i = 0; i < V; ++i) z[i] = x[i] / s.temperature, key[i] = float_key(z[i]), m = std::max(m, z[i]);
    for (int64_t i = 0; i < V; ++i) e[i] = exp_nonpositive(z[i] - m);
    uint32_t t_key = 0;
    if (top_k_on(s, V))
      t_key = search_largest_key(0, float_key(m), [&](uint32_t t) {
        return std::count_if(key.begin(), key.end(), [&](uint32_t k) { return k >= t; }) >= s.top_k;
      });
    auto mass = [&](uint32_t t) {
      double sum = 0;
      for (int64_t i = 0; i < V; ++i) sum += key[i] >= t ? e[i] : 0.0f;
      return sum;
    };
    if (top_p_on(s)) {
      const double target = double(s.top_p) * mass(t_key);
      t_key = search_largest_key(t_key, float_key(m), [&](uint32_t t) { return mass(t) >= target; });
    }
    const float mp = min_p_clamped(s);
    for (int64_t i = 0; i < V; ++i) support[b][i] = key[i] >= t_key && e[i] > 0 && (mp <= 0 || e[i] >= mp);
  }
  return support;
}

TEST(SamplingSearch, KernelThresholdSearchGivesTheTwinSupport) {
  for (auto [B, V] : {std::pair<int64_t, int64_t>{300, 7}, {140, 1000}, {4, 50257}, {3, 1}}) {
    const auto logits = awkward_logits(B, V, 31 + V);
    const auto p = mixed_params(B, 1);
    EXPECT_TRUE(torch::equal(support_by_search(logits, p), sampling_support_cpu(logits, p))) << "B=" << B << " V=" << V;
  }
}

TEST(Philox, MatchesTheKnownAnswerOfTheReference) {
  // Random123's known-answer vector for philox4x32-10 with zero counter and key.
  const auto r = philox::philox4x32_10({0, 0, 0, 0}, 0, 0);
  EXPECT_EQ(r.x, 0x6627e8d5u);
  EXPECT_EQ(r.y, 0xe169c58du);
  EXPECT_EQ(r.z, 0xbc57ac4cu);
  EXPECT_EQ(r.w, 0x9b00dbd8u);
  const float u = philox::uniform(123, 456);
  EXPECT_GE(u, 0.0f);
  EXPECT_LT(u, 1.0f);
  EXPECT_NE(philox::draw_u32(123, 456), philox::draw_u32(123, 457));
  EXPECT_NE(philox::draw_u32(123, 456), philox::draw_u32(124, 456));
}

struct SupportCase {
  int64_t B, V;
};

class SamplingSupport : public ::testing::TestWithParam<SupportCase> {};

TEST_P(SamplingSupport, TwinSupportEqualsNaiveSupportAndDrawsAgree) {
  const auto [B, V] = GetParam();
  const auto logits = awkward_logits(B, V, 1000 + V);
  const auto p = mixed_params(B, 17);
  const auto probs = sampling_probs_naive(logits, p);
  const auto naive_support = probs > 0;
  const auto twin_support = sampling_support_cpu(logits, p);
  EXPECT_EQ((naive_support != twin_support).sum().item<int64_t>(), 0) << "B=" << B << " V=" << V;
  EXPECT_TRUE(torch::allclose(probs.sum(1), torch::ones({B}, torch::kFloat64)));

  const auto twin = sample_cpu(logits, p);
  const auto naive = sample_naive(logits, p);
  ASSERT_EQ(twin.tokens.sizes(), torch::IntArrayRef({B}));
  // Every draw lies in the support and its log-prob is the final distribution's.
  const auto picked = probs.gather(1, twin.tokens.unsqueeze(1)).squeeze(1);
  EXPECT_TRUE((picked > 0).all().item<bool>());
  EXPECT_TRUE(torch::allclose(twin.logprob.to(torch::kFloat64), picked.log(), 1e-4, 1e-5));
  // Same Philox uniforms: the draws agree except where rounding decides (the reference's
  // float64 exp vs the twin's float weights): then u must sit at a CDF boundary.
  const auto cum = probs.cumsum(1);
  int64_t differ = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t i = twin.tokens[b].item<int64_t>(), j = naive.tokens[b].item<int64_t>();
    if (i == j) continue;
    ++differ;
    const double u = philox::uniform(p.seed[b].item<int64_t>(), p.offset[b].item<int64_t>());
    EXPECT_NEAR(cum[b][std::min(i, j)].item<double>(), u, 1e-5) << "row " << b << ": " << i << " vs " << j;
  }
  EXPECT_LE(differ, std::max<int64_t>(1, B / 50));
}

INSTANTIATE_TEST_SUITE_P(Sizes, SamplingSupport,
                         ::testing::Values(SupportCase{1, 1}, SupportCase{300, 1}, SupportCase{300, 7},
                                           SupportCase{300, 1000}, SupportCase{1, 50257}, SupportCase{8, 50257}));

TEST(Sampling, FiltersFollowTheDocumentedSemantics) {
  // Probabilities proportional to 8, 4, 4, 2, 1, 1 (logits are logs), plus a -inf token.
  const std::vector<float> w = {8, 4, 4, 2, 1, 1};
  auto logits = torch::full({1, 7}, -kInf);
  for (size_t i = 0; i < w.size(); ++i) logits[0][i] = std::log(w[i]);
  auto support = [&](double T, int64_t k, double top_p, double min_p) {
    const auto p = uniform_params(1, T, k, top_p, min_p, torch::zeros({1}, torch::kInt64),
                                  torch::zeros({1}, torch::kInt64));
    const auto s = sampling_support_cpu(logits, p)[0];
    EXPECT_TRUE(torch::equal(s, sampling_probs_naive(logits, p)[0] > 0));
    std::vector<int> kept;
    for (int i = 0; i < 7; ++i)
      if (s[i].item<bool>()) kept.push_back(i);
    return kept;
  };
  EXPECT_EQ(support(1, 0, 1, 0), (std::vector<int>{0, 1, 2, 3, 4, 5}));  // -inf never kept
  EXPECT_EQ(support(1, 2, 1, 0), (std::vector<int>{0, 1, 2}));           // tie at the k-th value kept
  EXPECT_EQ(support(1, 1, 1, 0), (std::vector<int>{0}));
  // Mass 8/20 = 0.4 < 0.5; with the tied 4s: 16/20 = 0.8 >= 0.5, both 4s kept. (No case sits
  // exactly on a boundary, where rounding would decide.)
  EXPECT_EQ(support(1, 0, 0.5, 0), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(support(1, 0, 0.35, 0), (std::vector<int>{0}));
  EXPECT_EQ(support(1, 0, 0.0, 0), (std::vector<int>{0}));
  EXPECT_EQ(support(1, 0, 0.85, 0), (std::vector<int>{0, 1, 2, 3}));    // 18/20 = 0.9
  // top-p after top-k: top-3 renormalised = 8/16, 4/16, 4/16; 0.5 reached by the first alone.
  EXPECT_EQ(support(1, 3, 0.5, 0), (std::vector<int>{0}));
  EXPECT_EQ(support(1, 0, 1, 0.24), (std::vector<int>{0, 1, 2, 3}));    // p >= 0.24 * p_max
  EXPECT_EQ(support(1, 0, 1, 0.3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(support(1, 0, 1, 5.0), (std::vector<int>{0}));               // clamped to 1
  EXPECT_EQ(support(0, 0, 1, 0), (std::vector<int>{0}));                 // greedy
}

// Wilson-Hilferty approximation of the chi-square quantile with right tail 1e-6 (z = 4.753):
// slightly above the exact value for small df, so the test errs towards passing a right
// sampler, and a wrong one (a few % off on any token over 40k draws) lands far above it.
double chi2_critical_1e6(int df) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + 4.753 * std::sqrt(a), 3);
}

void expect_chi_square_fit(const torch::Tensor& row_logits, double T, int64_t k, double top_p, double min_p) {
  const int64_t n = 40000, V = row_logits.size(0);
  const auto logits = row_logits.unsqueeze(0).expand({n, V}).contiguous();
  // One sequence, many steps: the same seed, offsets 0..n-1.
  const auto p = uniform_params(n, T, k, top_p, min_p, torch::full({n}, 2024, torch::kInt64),
                                torch::arange(n, torch::kInt64));
  const auto probs = sampling_probs_naive(logits.narrow(0, 0, 1), slice_params(p, 0))[0];
  const auto counts = torch::bincount(sample_cpu(logits, p).tokens, {}, V).to(torch::kFloat64);
  double chi2 = 0;
  int df = -1;
  for (int64_t i = 0; i < V; ++i) {
    const double e = probs[i].item<double>() * n, o = counts[i].item<double>();
    if (e == 0) {
      EXPECT_EQ(o, 0) << "token " << i << " has probability 0 but was drawn";
      continue;
    }
    chi2 += (o - e) * (o - e) / e;
    ++df;
  }
  ASSERT_GE(df, 1);
  EXPECT_LT(chi2, chi2_critical_1e6(df)) << "df=" << df;
}

TEST(Sampling, DrawsFollowTheFinalDistribution) {
  torch::manual_seed(5);
  const auto row = torch::randn({12}) * 1.5;
  expect_chi_square_fit(row, 1.0, 0, 1.0, 0.0);
  expect_chi_square_fit(row, 0.8, 8, 0.9, 0.0);
  expect_chi_square_fit(row, 1.3, 0, 1.0, 0.1);
}

TEST(Sampling, ReproducibleAndIndependentOfTheBatch) {
  const int64_t B = 300, V = 1000;
  const auto logits = awkward_logits(B, V, 77);
  const auto p = mixed_params(B, 99);
  const auto a = sample_cpu(logits, p), b = sample_cpu(logits, p);
  EXPECT_TRUE(torch::equal(a.tokens, b.tokens));
  EXPECT_TRUE(torch::equal(a.logprob, b.logprob));
  for (int64_t i : {0, 1, 2, 4, 150, 299}) {
    const auto alone = sample_cpu(logits.narrow(0, i, 1), slice_params(p, i));
    EXPECT_EQ(alone.tokens[0].item<int64_t>(), a.tokens[i].item<int64_t>()) << "row " << i;
    EXPECT_EQ(alone.logprob[0].item<float>(), a.logprob[i].item<float>()) << "row " << i;
  }
  // Another offset changes the draws of the sampled (non-greedy, non-single-token) rows.
  auto q = p;
  q.offset = p.offset + 1000;
  const auto c = sample_cpu(logits, q);
  EXPECT_GT((c.tokens != a.tokens).sum().item<int64_t>(), B / 4);
}

TEST(Sampling, GreedyIsTheFirstArgmax) {
  auto logits = torch::randn({64, 500});
  logits.select(1, 17).fill_(10.0);
  logits.select(1, 300).fill_(10.0);  // a tie: the lower index wins
  logits[3][450] = 20.0;
  const auto p = uniform_params(64, 0.0, 5, 0.5, 0.1, torch::arange(64), torch::zeros({64}, torch::kInt64));
  const auto r = sample_cpu(logits, p);
  EXPECT_TRUE(torch::equal(r.tokens, logits.argmax(1)));
  EXPECT_EQ(r.tokens[0].item<int64_t>(), 17);
  EXPECT_EQ(r.tokens[3].item<int64_t>(), 450);
  EXPECT_TRUE((r.logprob == 0).all().item<bool>());
  EXPECT_TRUE(torch::equal(sample_cpu(logits.to(torch::kBFloat16), p).tokens, r.tokens));
}

TEST(Sampling, EdgeRowsAndBadInput) {
  auto logits = torch::full({2, 5}, -kInf);
  logits[1][3] = 1.0;
  const auto p = uniform_params(2, 1.0, 0, 1.0, 0.0, torch::zeros({2}, torch::kInt64),
                                torch::zeros({2}, torch::kInt64));
  const auto r = sample_cpu(logits, p);
  EXPECT_EQ(r.tokens[0].item<int64_t>(), 0);
  EXPECT_TRUE(std::isnan(r.logprob[0].item<float>()));
  EXPECT_EQ(r.tokens[1].item<int64_t>(), 3);
  EXPECT_EQ(r.logprob[1].item<float>(), 0.0f);
  EXPECT_THROW(sample(torch::zeros({5}), p), mg::Error);
  EXPECT_THROW(sample(torch::zeros({3, 5}), p), mg::Error);
  EXPECT_THROW(sample(torch::zeros({2, 5}, torch::kInt64), p), mg::Error);
  EXPECT_THROW(uniform_params(3, 1.0, 0, 1.0, 0.0, torch::zeros({2}), torch::zeros({2})), mg::Error);
}

// ---- GPU kernel vs CPU twin ----

TEST(SamplingCuda, MatchesTheTwin) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU: the CUDA sampling kernel is not exercised";
  for (auto [B, V] : {std::pair<int64_t, int64_t>{300, 7}, {300, 1000}, {64, 50257}, {1, 1}}) {
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
      const auto logits = awkward_logits(B, V, 5 + V).to(dtype);
      const auto p = mixed_params(B, 3);
      const auto cpu = sample_cpu(logits, p);
      SamplingParams pg{p.temperature.cuda(), p.top_k.cuda(), p.top_p.cuda(),
                        p.min_p.cuda(),       p.seed.cuda(),  p.offset.cuda()};
      const auto gpu = sample(logits.cuda(), pg);
      const auto again = sample(logits.cuda(), pg);
      EXPECT_TRUE(torch::equal(gpu.tokens, again.tokens)) << "GPU draws must be deterministic";
      const auto tokens = gpu.tokens.cpu();
      // The same weights bit for bit; only float64 summation order differs, so at most a
      // freak row may differ.
      const int64_t differ = (tokens != cpu.tokens).sum().item<int64_t>();
      EXPECT_LE(differ, 1) << "B=" << B << " V=" << V;
      const auto same = tokens == cpu.tokens;
      EXPECT_TRUE(torch::allclose(gpu.logprob.cpu().masked_select(same), cpu.logprob.masked_select(same), 1e-4, 1e-4));
      // Every GPU draw lies in the support.
      const auto support = sampling_support_cpu(logits, p);
      EXPECT_TRUE(support.gather(1, tokens.unsqueeze(1)).all().item<bool>());
      // Batch independence on the GPU.
      const auto alone = sample(logits.narrow(0, B - 1, 1).cuda(), slice_params(pg, B - 1));
      EXPECT_EQ(alone.tokens.cpu()[0].item<int64_t>(), tokens[B - 1].item<int64_t>());
    }
  }
}

}  // namespace
}  // namespace mg::kernels
