// Bad input through the real binary: every malformed recipe gives one "error: <file>: <key>:
// ..." line on stderr, exit code 2, no stack trace, and nothing created or changed on disk.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace fs = std::filesystem;

using mg::testing::run_mindgap;

namespace {

class CliErrors : public ::testing::Test {
 protected:
  void SetUp() override { scratch = mg::testing::scratch_dir("cli"); }
  void TearDown() override { fs::remove_all(scratch); }
  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = scratch / name;
    std::ofstream(p) << text;
    return p;
  }
  fs::path scratch;
};

// A valid recipe whose run.dir is inside the scratch directory; `extra` lines appended.
std::string recipe(const fs::path& run_dir, const std::string& extra = "") {
  return "task: {name: addition, digits: [1, 2]}\n"
         "model: {n_layer: 2, n_head: 2, d_model: 32, max_seq: 32}\n"
         "pretrain: {steps: 10}\n"
         "run: {dir: " + run_dir.string() + "}\n" + extra;
}

struct BadCase {
  const char* name;
  std::string (*text)(const fs::path& run);  // the recipe
  const char* overrides;                    // extra command-line arguments
  const char* must_name;                    // the key or cause the message must name
};

const BadCase kCases[] = {
    {"unknown_top", [](const fs::path& r) { return recipe(r, "modle: {}\n"); }, "", "modle: unknown key"},
    {"unknown_nested", [](const fs::path& r) { return recipe(r, "improve: {roundz: 3}\n"); }, "", "improve.roundz"},
    {"typo_suggests", [](const fs::path& r) { return recipe(r, "improve: {filter: {methd: none}}\n"); }, "",
     "did you mean 'improve.filter.method'"},
    {"wrong_type_int", [](const fs::path& r) { return recipe(r, "improve: {rounds: three}\n"); }, "", "improve.rounds"},
    {"float_for_int", [](const fs::path& r) { return recipe(r, "improve: {samples_per_prompt: 2.5}\n"); }, "",
     "improve.samples_per_prompt"},
    {"negative_steps", [](const fs::path& r) { return recipe(r, "improve: {distill: {steps: -1}}\n"); }, "",
     "improve.distill.steps"},
    {"top_p_zero", [](const fs::path& r) { return recipe(r, "improve: {sampling: {top_p: 0}}\n"); }, "",
     "improve.sampling.top_p"},
    {"top_p_above_one", [](const fs::path& r) { return recipe(r); }, "improve.sampling.top_p=1.5",
     "improve.sampling.top_p"},
    {"keep_zero", [](const fs::path& r) { return recipe(r, "improve: {filter: {keep: 0}}\n"); }, "",
     "improve.filter.keep"},
    {"keep_above_one", [](const fs::path& r) { return recipe(r); }, "improve.filter.keep=1.01", "improve.filter.keep"},
    {"heads_not_dividing", [](const fs::path& r) { return recipe(r); }, "model.n_head=3", "model.n_head"},
    {"missing_task_name",
     [](const fs::path& r) {
       return "task: {digits: [1, 2]}\nmodel: {n_layer: 2, n_head: 2, d_model: 32, max_seq: 32}\n"
              "pretrain: {steps: 10}\nrun: {dir: " + r.string() + "}\n";
     },
     "", "task.name: required key is missing"},
    {"missing_model_section",
     [](const fs::path& r) { return "task: {name: addition}\npretrain: {steps: 10}\nrun: {dir: " + r.string() + "}\n"; },
     "", "model.n_layer: required key is missing"},
    {"unknown_task", [](const fs::path& r) { return recipe(r); }, "task.name=division", "task.name"},
    {"bad_verify_method", [](const fs::path& r) { return recipe(r); }, "improve.verify.method=vibes",
     "improve.verify.method"},
    {"bad_filter_method", [](const fs::path& r) { return recipe(r); }, "improve.filter.method=top", "improve.filter.method"},
    {"digits_reversed", [](const fs::path& r) { return recipe(r); }, "task.digits=[3,1]", "task.digits"},
    {"digits_not_pair", [](const fs::path& r) { return recipe(r); }, "task.digits=[1,2,3]", "task.digits"},
    {"pad_narrower_than_digits", [](const fs::path& r) { return recipe(r); }, "task.pad_to=1", "task.pad_to"},
    {"section_not_map", [](const fs::path& r) { return recipe(r, "improve: 5\n"); }, "", "improve: expected a mapping"},
    {"syntax_error",
     [](const fs::path& r) { return "task: {name: addition\nmodel: [\n" + r.string(); }, "", "line "},
    {"empty_file", [](const fs::path&) { return std::string(); }, "", "empty"},
    {"not_a_mapping", [](const fs::path&) { return std::string("- a\n- b\n"); }, "", "expected a mapping"},
    {"override_without_value", [](const fs::path& r) { return recipe(r); }, "improve.rounds", "expected key=value"},
    {"override_unknown", [](const fs::path& r) { return recipe(r); }, "pretrain.stepz=3",
     "command line: pretrain.stepz: unknown key"},
    {"curriculum_wrong_key", [](const fs::path& r) { return recipe(r); }, "'improve.curriculum={holes: [4]}'",
     "improve.curriculum.holes"},
    {"pass_k_too_big", [](const fs::path& r) { return recipe(r); }, "improve.pass_k=99", "improve.pass_k"},
    {"cuda_bad_precision", [](const fs::path& r) { return recipe(r); }, "run.precision=fp8", "run.precision"},
    {"dropout_one", [](const fs::path& r) { return recipe(r); }, "model.dropout=1.0", "model.dropout"},
    {"equivalent_on_sudoku", [](const fs::path& r) { return recipe(r); },
     "task.name=sudoku improve.verify.method=equivalent", "improve.verify.method"},
    {"rewrites_on_multiplication", [](const fs::path& r) { return recipe(r); },
     "task.name=multiplication improve.verify.method=equivalent improve.verify.rewrites=3", "improve.verify.rewrites"},
    {"shifted_on_multiplication", [](const fs::path& r) { return recipe(r); },
     "task.name=multiplication improve.verify.method=equivalent improve.verify.shifted=2", "improve.verify.shifted"},
    {"split_on_multiplication", [](const fs::path& r) { return recipe(r); },
     "task.name=multiplication improve.verify.method=equivalent improve.verify.split=2", "improve.verify.split"},
    {"offset_by_model_without_shifted", [](const fs::path& r) { return recipe(r); },
     "improve.verify.method=equivalent improve.verify.offset=model", "improve.verify.offset: model moves"},
    {"offset_unknown", [](const fs::path& r) { return recipe(r); }, "improve.verify.offset=approx",
     "improve.verify.offset"},
    {"peers_without_a_peer", [](const fs::path& r) { return recipe(r); }, "improve.verify.method=peers",
     "improve.verify.peers: verify method peers needs at least one peer"},
    {"ensemble_peers_without_a_peer", [](const fs::path& r) { return recipe(r); },
     "improve.verify.method=ensemble improve.verify.ensemble=[consistency,peers]", "improve.verify.peers"},
    // Size rules: refused with the recipe, before recipe.yaml or tokenizer.model is written.
    {"digits_too_long_for_max_seq", [](const fs::path& r) { return recipe(r); }, "task.digits=[1,40]",
     "model.max_seq: 32 is too short"},
    {"curriculum_too_long_for_max_seq", [](const fs::path& r) { return recipe(r); },
     "'improve.curriculum={digits: [9]}'", "model.max_seq"},
    {"batch_beyond_memory", [](const fs::path& r) { return recipe(r); }, "pretrain.batch=1000000000",
     "pretrain.batch: too large"},
    {"own_directory_as_peer",
     [](const fs::path& r) { return recipe(r, "improve: {verify: {method: peers, peers: [" + r.string() + "]}}\n"); }, "",
     "this run's own directory"},
};

}  // namespace

TEST_F(CliErrors, EveryMalformedRecipeIsOneCleanError) {
  ASSERT_GE(std::size(kCases), 20u);
  for (const auto& c : kCases) {
    fs::path run = scratch / (std::string("run_") + c.name);
    fs::path file = write(std::string(c.name) + ".yaml", c.text(run));
    auto res = run_mindgap("run " + file.string() + " " + c.overrides, scratch);
    EXPECT_EQ(res.code, 2) << c.name << ": " << res.err;
    EXPECT_EQ(res.err.rfind("error: ", 0), 0u) << c.name << ": " << res.err;
    EXPECT_NE(res.err.find(c.must_name), std::string::npos) << c.name << ": " << res.err;
    EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << c.name << ": one line only: " << res.err;
    EXPECT_FALSE(fs::exists(run)) << c.name << ": the run directory must not be created";
  }
}

TEST_F(CliErrors, MissingAndUnreadableFiles) {
  auto res = run_mindgap("run " + (scratch / "nope.yaml").string(), scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("nope.yaml: cannot read"), std::string::npos) << res.err;
  res = run_mindgap("run " + scratch.string(), scratch);  // a directory is not a recipe
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find(scratch.string() + ": is a directory, not a recipe file"), std::string::npos) << res.err;
}

TEST_F(CliErrors, ValidRecipeCreatesRunDirAndResumeRefusesChangedKeys) {
  fs::path run = scratch / "run";
  fs::path file = write("ok.yaml", recipe(run));
  auto res = run_mindgap("run " + file.string() + " --check", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_FALSE(fs::exists(run)) << "--check changes nothing";
  res = run_mindgap("run " + file.string() + " pretrain.steps=0 improve.rounds=0", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  ASSERT_TRUE(fs::exists(run / "recipe.yaml"));
  std::string stored = mg::fs::read_file(run / "recipe.yaml");
  res = run_mindgap("run " + file.string() + " pretrain.steps=0 improve.rounds=0 model.d_model=64 pretrain.lr=0.01", scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("model.d_model"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("pretrain.lr"), std::string::npos) << res.err;
  EXPECT_EQ(mg::fs::read_file(run / "recipe.yaml"), stored) << "a refused resume must not touch recipe.yaml";
}

TEST_F(CliErrors, ResumeWithOtherNumericsSaysSoAndCarriesOn) {
  fs::path run = scratch / "run";
  fs::path file = write("ok.yaml", recipe(run));
  auto res = run_mindgap("run " + file.string() + " pretrain.steps=0 improve.rounds=0 run.threads=1", scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  auto state = nlohmann::json::parse(mg::fs::read_file(run / "round-0000" / "state.json"));
  ASSERT_TRUE(state.contains("numerics")) << state.dump();
  EXPECT_EQ(state["numerics"]["threads"], 1);
  EXPECT_FALSE(state["numerics"]["cpu_capability"].get<std::string>().empty());
  // run.threads may change on resume, but the sums split differently from then on.
  res = run_mindgap("run " + file.string() + " pretrain.steps=0 improve.rounds=0 run.threads=2", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find("round 0 was computed with other numerics (threads 1 there, 2 here)"), std::string::npos)
      << res.err;
  res = run_mindgap("run " + file.string() + " pretrain.steps=0 improve.rounds=0 run.threads=1", scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(res.err.find("other numerics"), std::string::npos) << res.err;
}

// `--check` runs every rule a run would meet before writing: the size rules included.
TEST_F(CliErrors, CheckRefusesWhatTheRunWouldRefuse) {
  fs::path run = scratch / "run";
  fs::path file = write("ok.yaml", recipe(run));
  for (const char* bad : {"task.digits=[1,40]", "pretrain.batch=1000000000"}) {
    auto res = run_mindgap("run " + file.string() + " " + bad + " --check", scratch);
    EXPECT_EQ(res.code, 2) << bad << ": " << res.err;
    EXPECT_EQ(res.err.rfind("error: " + file.string() + ": ", 0), 0u) << bad << ": " << res.err;
  }
  EXPECT_FALSE(fs::exists(run));
}

TEST_F(CliErrors, NonEmptyForeignDirectoryIsRefused) {
  fs::path run = scratch / "foreign";
  fs::create_directories(run);
  write("foreign/data.txt", "keep me");
  fs::path file = write("ok.yaml", recipe(run));
  auto res = run_mindgap("run " + file.string(), scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("not empty"), std::string::npos) << res.err;
  EXPECT_EQ(mg::fs::read_file(run / "data.txt"), "keep me");
  EXPECT_FALSE(fs::exists(run / "recipe.yaml"));
}

TEST_F(CliErrors, HelpAndVersion) {
  EXPECT_EQ(run_mindgap("--version", scratch).code, 0);
  for (const char* sub : {"run", "pretrain", "improve", "eval", "sample", "gap", "export", "compare"})
    EXPECT_EQ(run_mindgap(std::string(sub) + " --help", scratch).code, 0) << sub;
  auto res = run_mindgap("frobnicate", scratch);
  EXPECT_EQ(res.code, 2);
  EXPECT_EQ(res.err.rfind("error: unknown command 'frobnicate' (one of: run, pretrain, improve,", 0), 0u) << res.err;
  EXPECT_EQ(std::count(res.err.begin(), res.err.end(), '\n'), 1) << res.err;
  res = run_mindgap("", scratch);  // no command at all is still CLI11's message
  EXPECT_EQ(res.code, 2);
  EXPECT_NE(res.err.find("subcommand is required"), std::string::npos) << res.err;
}
