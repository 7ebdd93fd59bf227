// The layering of trainers/, read from the #include lines: a directory includes only its own
// files and those of the directories below it (run < curriculum, reports, interop < sampling <
// training < verifiers < stages < the top: the gap pipeline, the round loop, pretraining,
// sweep, testtime, inspect), and a stage never includes another stage (the round loop and the
// gap pipeline pass data between them). A stage's own helpers share its name's first word
// (distill, distill_data). The command line (tools/cli/) drives the top alone.
#include "test_paths.h"
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

namespace {

namespace fs = std::filesystem;

constexpr int kStages = 5, kTop = 6;

// The layer of a path under trainers/ ("stages/verify.h"); -1 for a path outside the layers.
int layer_of(const std::string& rel) {
  static const std::map<std::string, int> layers = {
      {"run", 0},       {"curriculum", 1}, {"reports", 1}, {"interop", 1},
      {"sampling", 2},  {"training", 3},   {"verifiers", 4}, {"stages", 5}};
  const auto slash = rel.find('/');
  if (slash == std::string::npos) return kTop;  // the gap pipeline, the round loop, ...
  const auto it = layers.find(rel.substr(0, slash));
  return it == layers.end() ? -1 : it->second;
}

std::string stage_of(const std::string& rel) {
  const std::string name = fs::path(rel).stem().string();
  return name.substr(0, name.find('_'));
}

TEST(Layout, TrainersIncludeOnlyDownwardAndNoStageIncludesAnother) {
  const fs::path root = fs::path(mg::test::source_dir()) / "trainers";
  const std::regex include_line(R"(^\s*#include\s+"trainers/([^"]+)\")");
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const auto ext = entry.path().extension();
    if (ext != ".h" && ext != ".cpp") continue;
    ++files;
    const std::string from = fs::relative(entry.path(), root).generic_string();
    const int from_layer = layer_of(from);
    EXPECT_GE(from_layer, 0) << "trainers/" << from
                             << " is in no layer (run, curriculum, reports, interop, sampling, training, verifiers, stages)";
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include_line)) continue;
      const std::string to = m[1];
      const int to_layer = layer_of(to);
      EXPECT_LE(to_layer, from_layer) << "trainers/" << from << " includes trainers/" << to << ", a layer above it";
      if (from_layer == kStages && to_layer == kStages)
        EXPECT_EQ(stage_of(from), stage_of(to)) << "stage trainers/" << from << " includes another stage, trainers/" << to;
    }
  }
  EXPECT_GT(files, 0) << root;
}

// The command line parses, prints and calls the trainers' top: no header below it, so that a new
// verify method or filter reaches every command through the gap pipeline.
TEST(Layout, TheCommandLineIncludesOnlyTheTopOfTrainers) {
  const fs::path root = fs::path(mg::test::source_dir()) / "tools" / "cli";
  const std::regex include_line(R"(^\s*#include\s+"trainers/([^"]+)\")");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    const auto ext = entry.path().extension();
    if (ext != ".h" && ext != ".cpp") continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, include_line))
        EXPECT_EQ(layer_of(m[1]), kTop) << entry.path().filename() << " includes trainers/" << m[1]
                                        << ", below the trainers' top";
    }
  }
  EXPECT_GT(files, 0) << root;
}

}  // namespace
