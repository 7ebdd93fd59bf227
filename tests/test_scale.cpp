// The trivial CUDA kernel against its CPU twin; the CPU twin against libtorch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kernels/scale.h"

TEST(Scale, CpuTwinMatchesLibtorch) {
  for (int64_t n : {0, 1, 7, 1000, 65537}) {
    auto x = torch::randn({n});
    auto y = mg::kernels::scale(x, -2.5f);
    EXPECT_TRUE(torch::allclose(y, x * -2.5f)) << "n=" << n;
  }
}

TEST(Scale, GpuMatchesCpuTwin) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU: the CUDA scale kernel was not run";
  ASSERT_TRUE(mg::kernels::built_with_cuda());
  for (int64_t n : {1, 255, 256, 257, 1 << 20, 70'000'001}) {
    auto x = torch::randn({n});
    auto gpu = mg::kernels::scale(x.cuda(), 3.0f).cpu();
    EXPECT_TRUE(torch::equal(gpu, mg::kernels::scale_cpu(x, 3.0f))) << "n=" << n;
  }
}
