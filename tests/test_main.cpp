// The one gtest main of every test binary: fixed thread count and seed, so tests are
// reproducible and do not fight over the cores.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/runtime.h"
#include "core/sanitizer_defaults.h"
#include "test_paths.h"

std::string mg::test::source_dir() { return MG_SOURCE_DIR; }
std::string mg::test::binary_dir() { return MG_BINARY_DIR; }

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  mg::set_threads(1);
  torch::manual_seed(0);
  return RUN_ALL_TESTS();
}
