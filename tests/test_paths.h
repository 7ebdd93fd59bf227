#pragma once
// Where the checkout and the build are. Defined in test_main.cpp, the one file compiled with the
// paths, so that every other test object is the same in any checkout (ccache serves a fresh clone).
#include <string>

namespace mg::test {
std::string source_dir();
std::string binary_dir();
}  // namespace mg::test
