// Damaged run directories through the real binary, as a user meets them: each damage gives
// one error line naming the file (exit 2) or a warning and a fallback, never a silent use.
// One micro run (rounds 0 to 2) is made once; each test damages a copy of it.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <limits>

#include "core/fs.h"
#include "core/run/manifest.h"
#include "core/run/safetensors.h"
#include "tests/cli_runner.h"

namespace fs = std::filesystem;
using mg::testing::micro_recipe;
using mg::testing::run_mindgap;

namespace {

class IntegrityCli : public ::testing::Test {
 protected:
  // A finished micro run with rounds 0, 1 and 2, shared by the tests (each works on a copy).
  static void SetUpTestSuite() {
    pristine_ = fs::temp_directory_path() / ("mg_integrity_pristine_" + std::to_string(::getpid()));
    fs::remove_all(pristine_);
    fs::create_directories(pristine_);
    auto res = run_mindgap(args(pristine_ / "run", 2), pristine_);
    made_ = res.code == 0;
    if (!made_) std::cerr << "the micro run failed: " << res.err;
  }
  static void TearDownTestSuite() { fs::remove_all(pristine_); }
  void SetUp() override {
    ASSERT_TRUE(made_);
    scratch = mg::testing::scratch_dir("integrity");
    run = scratch / "run";
    fs::copy(pristine_ / "run", run, fs::copy_options::recursive);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(scratch);
  }
  static std::string args(const fs::path& dir, int rounds) {
    return "run " + micro_recipe() + " run.dir=" + dir.string() + " improve.rounds=" + std::to_string(rounds);
  }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary | std::ios::trunc) << s; }
  static void flip_bit(const fs::path& p, size_t at) {
    std::string s = mg::fs::read_file(p);
    s[at % s.size()] ^= 0x01;
    write(p, s);
  }
  static int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
  static inline fs::path pristine_;
  static inline bool made_ = false;
  fs::path scratch, run;
};

}  // namespace

TEST_F(IntegrityCli, NonFiniteWeightIsRefusedOnLoadNamingTensorAndFile) {
  auto weights = run / "round-0002" / "model.safetensors";
  auto state = mg::load_safetensors(weights);
  state[0].second.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  mg::save_safetensors(weights, state);
  mg::write_manifest(run / "round-0002");  // the checksum is valid: only the loader can refuse it
  auto res = run_mindgap("eval " + run.string(), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("error: " + weights.string() + ": tensor '" + state[0].first + "' holds a NaN"),
            std::string::npos) << res.err;
  // Training on from it is refused before anything of round 3 is committed.
  res = run_mindgap(args(run, 3), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("holds a NaN"), std::string::npos) << res.err;
  EXPECT_FALSE(fs::exists(run / "round-0003"));
  EXPECT_FALSE(fs::exists(run / "round-0003.tmp"));
  EXPECT_EQ(mg::fs::read_file(run / "LATEST"), "round-0002\n");
  EXPECT_EQ(run_mindgap("eval " + run.string() + " --round 0", scratch).code, 0);
}

TEST_F(IntegrityCli, EmptyManifestDoesNotVouchForCopiedWeights) {
  fs::copy(run / "round-0002", run / "round-0003", fs::copy_options::recursive);
  write(run / "round-0003" / "MANIFEST", "");
  write(run / "LATEST", "round-0003\n");
  auto res = run_mindgap("eval " + run.string(), scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  const std::string warning = "round-0003: corrupt (model.safetensors: not listed in MANIFEST)";
  size_t at = res.err.find(warning);
  EXPECT_NE(at, std::string::npos) << res.err;
  EXPECT_EQ(res.err.find(warning, at + 1), std::string::npos) << "one warning, not one per lookup: " << res.err;
  EXPECT_EQ(nlohmann::json::parse(mg::fs::read_file(scratch / "stdout.txt"))["round"], 2);
  res = run_mindgap("eval " + run.string() + " --round 3", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
}

TEST_F(IntegrityCli, TokenizerIsCoveredByTheRunManifest) {
  EXPECT_NE(mg::fs::read_file(run / "MANIFEST").find("  tokenizer.model\n"), std::string::npos);
  flip_bit(run / "tokenizer.model", 200);
  for (const std::string& cmd : {"eval " + run.string(), args(run, 2), args(run, 2) + " --check"}) {
    auto res = run_mindgap(cmd, scratch);
    EXPECT_EQ(res.code, 2) << cmd << ": " << res.err;
    EXPECT_NE(res.err.find("tokenizer.model: does not match its checksum"), std::string::npos) << res.err;
    EXPECT_EQ(lines(res.err), 1) << res.err;
  }
  // Deleted: `run` no longer trains a new one under rounds trained with the old, and `--check`
  // says so too. A refused run writes nothing.
  fs::remove(run / "tokenizer.model");
  const std::string recipe = mg::fs::read_file(run / "recipe.yaml"), manifest = mg::fs::read_file(run / "MANIFEST");
  for (const std::string& cmd : {args(run, 3) + " --check", args(run, 3)}) {
    auto res = run_mindgap(cmd, scratch);
    EXPECT_EQ(res.code, 2) << cmd << ": " << res.err;
    EXPECT_NE(res.err.find("tokenizer.model: missing, but this run's rounds were trained with it"), std::string::npos)
        << res.err;
  }
  EXPECT_FALSE(fs::exists(run / "tokenizer.model"));
  EXPECT_FALSE(fs::exists(run / "round-0003.tmp"));
  EXPECT_EQ(mg::fs::read_file(run / "recipe.yaml"), recipe);
  EXPECT_EQ(mg::fs::read_file(run / "MANIFEST"), manifest);
}

TEST_F(IntegrityCli, RecipeIsCoveredByTheRunManifest) {
  std::string recipe = mg::fs::read_file(run / "recipe.yaml");
  write(run / "recipe.yaml", recipe + "# edited\n");
  auto res = run_mindgap("eval " + run.string(), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("recipe.yaml: does not match its checksum"), std::string::npos) << res.err;
  // `run` compares it with the given recipe in every key that matters, then rewrites it.
  res = run_mindgap(args(run, 2), scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find("recipe.yaml: does not match its checksum"), std::string::npos) << res.err;
  EXPECT_EQ(run_mindgap("eval " + run.string(), scratch).code, 0);
}

TEST_F(IntegrityCli, DamagedOlderRoundStateIsNamed) {
  // Round 1 is older than LATEST's round 2: extending the run reads its record for the table.
  auto state = run / "round-0001" / "state.json";
  write(state, "");
  auto res = run_mindgap(args(run, 3), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("error: " + (run / "round-0001").string() + ": corrupt (state.json: checksum mismatch"),
            std::string::npos) << res.err;
  for (const char* text : {"", "{}"}) {
    write(state, text);
    mg::write_manifest(run / "round-0001");  // vouched for: the content itself must be refused
    res = run_mindgap(args(run, 3), scratch);
    EXPECT_EQ(res.code, 2) << res.err;
    EXPECT_NE(res.err.find("error: " + state.string() + ": "), std::string::npos) << "'" << text << "': " << res.err;
  }
  EXPECT_FALSE(fs::exists(run / "round-0003"));
  EXPECT_FALSE(fs::exists(run / "round-0003.tmp"));
}

TEST_F(IntegrityCli, DamagedStageFileIsDiscardedAndRecomputedIdentically) {
  // A reference: round 3 computed without damage.
  auto ref = scratch / "ref";
  fs::copy(run, ref, fs::copy_options::recursive);
  ASSERT_EQ(run_mindgap(args(ref, 3), scratch).code, 0);
  // A killed run left round 3's samples, damaged on disk since.
  fs::create_directories(run / "round-0003.tmp");
  fs::copy_file(ref / "round-0003" / "samples.jsonl", run / "round-0003.tmp" / "samples.jsonl");
  fs::copy_file(ref / "round-0003" / "scored.jsonl", run / "round-0003.tmp" / "scored.jsonl");
  std::string samples = mg::fs::read_file(run / "round-0003.tmp" / "samples.jsonl");
  write(run / "round-0003.tmp" / "samples.jsonl", samples.substr(0, samples.size() / 2) + "\x01garbage");
  auto res = run_mindgap(args(run, 3), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_NE(res.err.find("samples.jsonl: cannot be used"), std::string::npos) << res.err;
  EXPECT_NE(res.err.find("discarded with the stages after it"), std::string::npos) << res.err;
  for (const char* file : {"samples.jsonl", "scored.jsonl", "kept.jsonl", "model.safetensors"})
    EXPECT_EQ(mg::fs::read_file(run / "round-0003" / file), mg::fs::read_file(ref / "round-0003" / file)) << file;
}

TEST_F(IntegrityCli, PromptOutsideTheVocabularyIsRefused) {
  auto res = run_mindgap("sample " + run.string() + " --prompt 12x34=", scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("--prompt: the character 'x' is not in the run's vocabulary"), std::string::npos) << res.err;
  EXPECT_EQ(run_mindgap("sample " + run.string() + " --prompt 12+34=", scratch).code, 0);
}
