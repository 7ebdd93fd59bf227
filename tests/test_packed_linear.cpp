// PackedLinears (models/packed_linear.h) against at::addmm: bias and residual forms at awkward
// sizes, packing again after the weight changes, and the fallback for what it does not pack.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/packed_linear.h"

namespace {

TEST(PackedLinear, EqualsAddmmAtAwkwardSizes) {
  if (!mg::PackedLinears::available()) std::printf("[ NOTE ] no packed GEMM in this libtorch: every call is at::addmm\n");
  torch::manual_seed(5);
  mg::PackedLinears packed;
  struct Case {
    int64_t m, n, k;
  };
  for (const Case c : {Case{1, 1, 1}, Case{7, 13, 5}, Case{64, 384, 128}, Case{33, 17, 130}, Case{256, 512, 128}}) {
    const auto w = torch::randn({c.n, c.k}), x = torch::randn({c.m, c.k});
    const auto bias = torch::randn({c.n}), residual = torch::randn({c.m, c.n});
    const auto residual_before = residual.clone();
    for (int call = 0; call < 2; ++call) {  // the second call reuses the packed copy
      auto got = packed.addmm(bias, x, w);
      EXPECT_TRUE(torch::allclose(got, at::addmm(bias, x, w.t()), 1e-5, 1e-5)) << c.m << "x" << c.n << "x" << c.k;
      got = packed.addmm(residual, x, w);
      EXPECT_TRUE(torch::allclose(got, at::addmm(residual, x, w.t()), 1e-5, 1e-5)) << c.m << "x" << c.n << "x" << c.k;
      EXPECT_TRUE(torch::equal(residual, residual_before)) << "the residual is read, not written";
    }
  }
}

TEST(PackedLinear, PacksAgainWhenTheWeightChanges) {
  torch::manual_seed(6);
  mg::PackedLinears packed;
  auto w = torch::randn({24, 16});
  const auto x = torch::randn({9, 16}), bias = torch::zeros({24});
  packed.addmm(bias, x, w);
  {
    torch::NoGradGuard no_grad;
    w.mul_(-2.0).add_(0.5);  // an in-place update, as an optimizer step makes
  }
  EXPECT_TRUE(torch::allclose(packed.addmm(bias, x, w), at::addmm(bias, x, w.t()), 1e-5, 1e-5));
  // The same weight at another row count: packed for that count as well.
  const auto x3 = torch::randn({3, 16});
  EXPECT_TRUE(torch::allclose(packed.addmm(bias, x3, w), at::addmm(bias, x3, w.t()), 1e-5, 1e-5));
}

TEST(PackedLinear, StaysRightPastTheCacheBound) {
  torch::manual_seed(7);
  mg::PackedLinears packed;
  const auto w = torch::randn({12, 8}), bias = torch::randn({12});
  for (int64_t m = 1; m <= 150; ++m) {  // more row counts than the cache keeps
    const auto x = torch::randn({m, 8});
    ASSERT_TRUE(torch::allclose(packed.addmm(bias, x, w), at::addmm(bias, x, w.t()), 1e-5, 1e-5)) << "m=" << m;
  }
}

TEST(PackedLinear, FallsBackForWhatItDoesNotPack) {
  mg::PackedLinears packed;
  const auto w = torch::randn({16, 8}), x = torch::randn({8, 5}).t();  // x not contiguous
  const auto bias = torch::randn({16});
  EXPECT_TRUE(torch::allclose(packed.addmm(bias, x, w), at::addmm(bias, x, w.t()), 1e-5, 1e-5));
  const auto wd = w.to(torch::kFloat64), xd = torch::randn({4, 8}, torch::kFloat64), bd = bias.to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(packed.addmm(bd, xd, wd), at::addmm(bd, xd, wd.t())));
}

}  // namespace
