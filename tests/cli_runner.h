#pragma once
// Runs the mindgap binary from a test: exit code, stderr, and a scratch directory per test.
#include "test_paths.h"
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>

#include "core/fs.h"

namespace mg::testing {

struct CliResult {
  int code;
  std::string err;
};

inline CliResult run_mindgap(const std::string& args, const std::filesystem::path& scratch,
                             const std::string& env = "") {
  auto err = scratch / "stderr.txt";
  std::string cmd = env + (env.empty() ? "" : " ") + mg::test::binary_dir() + "/mindgap " + args +
                    " > " + (scratch / "stdout.txt").string() + " 2> " + err.string();
  int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, mg::fs::read_file(err)};
}

inline std::filesystem::path scratch_dir(const std::string& tag) {
  auto info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             ("mg_" + tag + "_" + std::to_string(::getpid()) + "_" + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string micro_recipe() { return mg::test::source_dir() + "/tests/data/micro_addition.yaml"; }

}  // namespace mg::testing
