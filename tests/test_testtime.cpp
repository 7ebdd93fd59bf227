// `mindgap testtime` through the binary, on a small model that answers about half of the
// held-out prompts: every (method, N) row, the identities that hold whatever the model (at
// N = 1 every pick is the one sample; no pick beats pass@N), and the refusals.
#include "test_paths.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

#include "core/fs.h"
#include "core/report/metrics.h"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using mg::testing::run_mindgap;

namespace {

class TestTime : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One run for the suite (scratch_dir names a directory after the current test, and there is none yet).
    scratch = fs::temp_directory_path() / ("mg_testtime_" + std::to_string(::getpid()));
    fs::remove_all(scratch);
    fs::create_directories(scratch);
    run = scratch / "run";
    // One-digit addition, 300 steps: about half the held-out answers right; the verdict, the
    // score and the pairwise format taught.
    auto res = run_mindgap("pretrain " + mg::test::source_dir() + "/tests/data/learn_formats.yaml run.dir=" +
                               run.string() + " pretrain.steps=300 tokenizer.vocab_size=40 improve.verify.method=ensemble"
                               " improve.verify.ensemble=[mc,score,consistency,tournament]",
                           scratch);
    ASSERT_EQ(res.code, 0) << res.err;
  }
  static void TearDownTestSuite() { fs::remove_all(scratch); }
  static fs::path scratch, run;
};
fs::path TestTime::scratch, TestTime::run;

}  // namespace

TEST_F(TestTime, EveryMethodAndNWithTheControlsBeside) {
  auto res = run_mindgap("testtime " + run.string() + " --best-of 1,2,4,8 --methods mc-direct,score,tournament --prompts 48",
                         scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  const auto rows = mg::read_metrics(run / "testtime-round-0000.jsonl");
  const std::vector<std::string> methods = {"mc-direct", "score", "tournament", "none", "oracle"};
  ASSERT_EQ(rows.size(), methods.size() * 4);
  std::map<std::pair<std::string, int>, double> acc;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["method"], methods[i / 4]);
    EXPECT_EQ(rows[i]["n"], std::vector<int>({1, 2, 4, 8})[i % 4]);
    EXPECT_EQ(rows[i]["prompts"], 48);
    acc[{rows[i]["method"], rows[i]["n"]}] = rows[i]["accuracy"];
  }
  auto at = [&acc](const std::string& m, int n) { return acc[std::make_pair(m, n)]; };
  const double one = at("none", 1);
  EXPECT_GT(one, 0.1) << "the model should answer some prompts";
  EXPECT_LT(at("none", 8), 0.95) << "and miss some";
  for (const auto& m : methods) {
    EXPECT_DOUBLE_EQ(at(m, 1), one) << m << ": with one sample every method picks it";
    for (int n : {1, 2, 4, 8}) EXPECT_LE(at(m, n), at("oracle", n) + 1e-12) << m << " N=" << n;
  }
  for (int n : {2, 4, 8}) EXPECT_GE(at("oracle", n), at("oracle", n / 2)) << "pass@N never falls with N";
  EXPECT_NE(res.err.find("tournament"), std::string::npos);
  EXPECT_NE(res.err.find("oracle"), std::string::npos);
  EXPECT_TRUE(fs::exists(run / "testtime-round-0000.png") || res.err.find("matplotlib") != std::string::npos);
  // Sampled with the run's seed: the same rows again.
  const std::string first = mg::fs::read_file(run / "testtime-round-0000.jsonl");
  ASSERT_EQ(run_mindgap("testtime " + run.string() + " --best-of 1,2,4,8 --methods mc-direct,score,tournament --prompts 48",
                        scratch).code, 0);
  EXPECT_EQ(mg::fs::read_file(run / "testtime-round-0000.jsonl"), first);
}

TEST_F(TestTime, BadRequestsAreRefusedNamingTheOption) {
  auto res = run_mindgap("testtime " + run.string() + " --best-of 4,2", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("ascending"), std::string::npos) << res.err;
  res = run_mindgap("testtime " + run.string() + " --methods oracle", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("always drawn"), std::string::npos) << res.err;
  // The micro run is taught the cot verdict only: methods that read another format are refused.
  const fs::path plain = scratch / "plain";
  ASSERT_EQ(run_mindgap("pretrain " + mg::testing::micro_recipe() + " run.dir=" + plain.string(), scratch).code, 0);
  res = run_mindgap("testtime " + plain.string() + " --methods tournament --prompts 4", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("pair"), std::string::npos) << res.err;
  res = run_mindgap("testtime " + plain.string() + " --methods mc-direct --prompts 4", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("direct"), std::string::npos) << res.err;
}
