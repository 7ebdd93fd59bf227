// Each verification format is learnable: a small model pretrained for a few hundred steps on
// one-digit addition judges held-out (prompt, candidate) pairs, half correct and half
// realistic near misses, far better than chance, and solves the prompts greedily. The
// tournament's pairwise format is judged head to head: each candidate against one of the other
// kind, in both orders.
#include "test_paths.h"
#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace fs = std::filesystem;

namespace {

nlohmann::json pretrain_with(const std::string& overrides, const fs::path& scratch) {
  auto run = scratch / "run";
  auto recipe = mg::test::source_dir() + "/tests/data/learn_formats.yaml";
  auto res = mg::testing::run_mindgap("pretrain " + recipe + " run.dir=" + run.string() + " " + overrides, scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  return nlohmann::json::parse(mg::fs::read_file(run / "round-0000" / "state.json"));
}

}  // namespace

class FormatsLearn : public ::testing::TestWithParam<const char*> {};

TEST_P(FormatsLearn, SmallModelLearnsTheVerdict) {
  auto scratch = mg::testing::scratch_dir(std::string("fmt_") + GetParam());
  const std::string format = GetParam();
  std::string overrides = format == "score"        ? "improve.verify.method=score"
                          : format == "tournament" ? "improve.verify.method=tournament tokenizer.vocab_size=40"
                                                   : "improve.verify.format=" + format;
  auto state = pretrain_with(overrides, scratch);
  EXPECT_GE(state["verdict_accuracy"].get<double>(), 0.8) << state.dump();
  EXPECT_GE(state["verdict_auroc"].get<double>(), 0.9) << state.dump();
  EXPECT_GE(state["greedy"].get<double>(), 0.9) << state.dump();
  fs::remove_all(scratch);
}

INSTANTIATE_TEST_SUITE_P(EachFormat, FormatsLearn, ::testing::Values("direct", "cot", "score", "tournament"));
