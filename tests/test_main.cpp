// The one gtest main of every test binary: fixed thread count and seed, so tests are
// reproducible and do not fight over the cores.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "core/sanitizer_defaults.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  mg::set_threads(1);
  torch::manual_seed(0);
  return RUN_ALL_TESTS();
}
