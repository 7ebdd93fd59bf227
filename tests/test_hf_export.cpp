// `mindgap export --format hf` and `mindgap import --format hf`: for each position scheme (and one
// task each), a tiny model with every weight perturbed away from its initial value (so that a
// wrong layout of any tensor shows) is exported; tests/hf_check.py loads it with stock
// transformers classes and compares tokens, logits and greedy answers with mindgap's, written
// here. The import test needs no Python: export -> import gives the same tensors and the same
// `mindgap eval` output.
#include "test_paths.h"
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <map>

#include "core/errors.h"
#include "core/fs.h"
#include "core/run/manifest.h"
#include "core/run/safetensors.h"
#include "core/tasks/verification.h"
#include "tests/cli_runner.h"
#include "trainers/sampling/answers.h"
#include "trainers/run/run_context.h"

namespace fs = std::filesystem;
using mg::testing::run_mindgap;

namespace {

struct Scheme {
  const char* pos;
  const char* task;  // each scheme on another task, so every task's tokenizer is checked
};

// Test names say the scheme (gtest would print the struct's bytes).
void PrintTo(const Scheme& s, std::ostream* os) { *os << s.pos; }

const Scheme kSchemes[] = {{"learned", "{name: addition, digits: [1, 3], eval_prompts: 8}"},
                           {"rope", "{name: multiplication, digits: [1, 2], eval_prompts: 8}"},
                           {"none", "{name: sudoku, size: 4, holes: [2, 5], eval_prompts: 8}"}};

// The venv's python: $MINDGAP_PYTHON, else the one CMake was configured with, else python3.
#ifndef MG_PYTHON
#define MG_PYTHON ""
#endif

std::string python() {
  const char* p = std::getenv("MINDGAP_PYTHON");
  if (p != nullptr && *p != '\0') return p;
  return std::string(MG_PYTHON).empty() ? "python3" : MG_PYTHON;
}

// A run of `scheme` under `dir` whose round-0000 holds the initial weights plus noise on every
// tensor, LayerNorms and biases included.
struct TinyRun {
  fs::path dir;
  std::unique_ptr<mg::RunContext> ctx;
  mg::Gpt model{nullptr};
};

TinyRun make_run(const fs::path& dir, const Scheme& scheme) {
  // The micro recipe with this scheme's task and a model of two layers.
  std::string yaml = mg::fs::read_file(mg::testing::micro_recipe());
  auto replace_line = [&](const std::string& key, const std::string& value) {
    auto at = yaml.find("\n" + key + ":");
    mg::check(at != std::string::npos, "micro recipe has no " + key + " line");
    yaml.replace(at + 1, yaml.find('\n', at + 1) - at - 1, key + ": " + value);
  };
  replace_line("task", scheme.task);
  replace_line("model", std::string("{n_layer: 2, n_head: 2, d_model: 32, max_seq: 64, pos: ") + scheme.pos + "}");
  replace_line("tokenizer", "{vocab_size: 48}");
  fs::create_directories(dir);
  mg::fs::write_file_atomic(dir / "recipe.yaml", yaml);
  TinyRun r;
  r.dir = dir / "run";
  r.ctx = std::make_unique<mg::RunContext>(
      mg::open_run(mg::load_recipe((dir / "recipe.yaml").string(), {"run.dir=" + r.dir.string()})));
  r.model = mg::make_model(*r.ctx);
  torch::manual_seed(11);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : r.model->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  mg::RoundWriter writer(r.ctx->run, 0);
  mg::save_safetensors(writer.dir() / "model.safetensors", mg::module_state(*r.model), {{"round", "0"}});
  mg::fs::write_file_atomic(writer.dir() / "state.json", R"({"round": 0})");
  writer.commit();
  return r;
}

fs::path export_hf(const TinyRun& r, const fs::path& scratch) {
  auto out = r.dir.parent_path() / "hf";
  auto res = run_mindgap("export " + r.dir.string() + " --format hf --out " + out.string(), scratch);
  EXPECT_EQ(res.code, 0) << res.err;
  return out;
}

class HfExport : public ::testing::Test {
 protected:
  void SetUp() override { scratch = mg::testing::scratch_dir("hf"); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(scratch);
  }
  fs::path scratch;
};

class HfImport : public ::testing::TestWithParam<Scheme> {
 protected:
  void SetUp() override {
    scratch = mg::testing::scratch_dir("hf_import");
    tiny = make_run(scratch / "a", GetParam());
    run = tiny.dir;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(scratch);
  }
  fs::path scratch, run;
  TinyRun tiny;
};

// What hf_check.py compares against: ids of task texts (prompts, answers, verification examples
// with their special tokens), and mindgap's logits and greedy answers for a batch of prompts.
nlohmann::json expectations(mg::RunContext& ctx, mg::Gpt& model) {
  const auto& tok = *ctx.tokenizer;
  const mg::Range d = mg::difficulty_for_round(ctx.recipe, 0);
  nlohmann::json texts = nlohmann::json::array();
  for (const auto& t : mg::tokenizer_corpus(*ctx.task, d, 5, 24)) texts.push_back({{"text", t}, {"ids", tok.encode(t)}});
  std::vector<std::string> prompts;
  for (uint64_t i = 0; i < 6; ++i) prompts.push_back(ctx.task->generate(9, i, d).prompt);
  prompts.push_back(mg::verification_prefix(prompts[0], "12") + " ");  // a prompt with <verify> and spaces

  // Right-padded batch: causal attention keeps padding out of every real position.
  size_t width = 0;
  std::vector<std::vector<int>> ids;
  for (const auto& p : prompts) {
    ids.push_back(tok.encode(p));
    width = std::max(width, ids.back().size());
  }
  auto batch = torch::full({static_cast<int64_t>(ids.size()), static_cast<int64_t>(width)}, tok.pad_id(), torch::kInt64);
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t t = 0; t < ids[i].size(); ++t) batch[static_cast<int64_t>(i)][static_cast<int64_t>(t)] = ids[i][t];
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    model->eval();
    logits = model->forward(batch).to(torch::kFloat64);
  }
  mg::GenerateRequest req;
  req.prompts = prompts;
  req.sampling.temperature = 0.0;
  req.max_new_tokens = 12;
  auto answers = mg::generate_answers(model, tok, req, torch::kCPU);
  nlohmann::json out = {{"texts", texts}, {"max_new_tokens", req.max_new_tokens}, {"end_id", tok.end_id()}, {"tolerance", 1e-4}};
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto rows = logits[static_cast<int64_t>(i)].narrow(0, 0, static_cast<int64_t>(ids[i].size())).contiguous();
    nlohmann::json l = nlohmann::json::array();
    for (int64_t t = 0; t < rows.size(0); ++t) {
      auto r = rows[t];
      l.push_back(std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel()));
    }
    out["prompts"].push_back({{"text", prompts[i]}, {"ids", ids[i]}, {"logits", l}, {"greedy", answers[i][0]}});
  }
  return out;
}

}  // namespace

// Every scheme is checked by one python process: importing torch and transformers is most of its time.
TEST_F(HfExport, TransformersComputesWhatMindgapComputes) {
  const std::string py = python();
  if (std::system((py + " -c 'import transformers, tokenizers, torch' > /dev/null 2>&1").c_str()) != 0)
    GTEST_SKIP() << "transformers is not importable with " << py << ": tools/setup.sh installs it into the venv";
  std::string args;
  for (const Scheme& scheme : kSchemes) {
    TinyRun r = make_run(scratch / scheme.pos, scheme);
    auto hf = export_hf(r, scratch);
    ASSERT_TRUE(fs::exists(hf / "config.json")) << scheme.pos;
    auto expect = scratch / scheme.pos / "expect.json";
    mg::fs::write_file_atomic(expect, expectations(*r.ctx, r.model).dump());
    args.append(" ").append(hf.string()).append(" ").append(expect.string());
  }
  auto log = scratch / "hf_check.txt";
  std::string cmd = py + " " + mg::test::source_dir() + "/tests/hf_check.py" + args + " > " + log.string() + " 2>&1";
  int status = std::system(cmd.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::string report = mg::fs::read_file(log);
  if (code == 77) GTEST_SKIP() << report;
  std::cout << report;
  EXPECT_EQ(code, 0) << report;
}

TEST_P(HfImport, GivesTheSameWeightsAndEval) {
  auto hf = export_hf(tiny, scratch);
  auto imported = scratch / "imported";
  auto res = run_mindgap("import --format hf " + hf.string() + " --out " + imported.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  std::string problem;
  ASSERT_TRUE(mg::verify_manifest(imported / "round-0000", &problem)) << problem;
  auto a = mg::load_safetensors(run / "round-0000" / "model.safetensors");
  auto b = mg::load_safetensors(imported / "round-0000" / "model.safetensors");
  ASSERT_EQ(a.size(), b.size());
  std::map<std::string, torch::Tensor> by_name(b.begin(), b.end());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_TRUE(torch::equal(t, by_name[name])) << name;
  }
  EXPECT_EQ(mg::fs::read_file(imported / "tokenizer.model"), mg::fs::read_file(run / "tokenizer.model"));
  // The imported run is a run: eval reads it, and with the same weights says the same.
  ASSERT_EQ(run_mindgap("eval " + run.string(), scratch).code, 0);
  auto original = mg::fs::read_file(scratch / "stdout.txt");
  res = run_mindgap("eval " + imported.string(), scratch);
  ASSERT_EQ(res.code, 0) << res.err;
  EXPECT_EQ(mg::fs::read_file(scratch / "stdout.txt"), original);
  EXPECT_NE(original.find("greedy"), std::string::npos) << original;
}

TEST_P(HfImport, RefusesWhatMindgapCannotCompute) {
  auto hf = export_hf(tiny, scratch);
  auto config = nlohmann::json::parse(mg::fs::read_file(hf / "config.json"));
  auto original = config;
  if (config["model_type"] == "gpt2") {
    config["activation_function"] = "gelu";  // the exact erf GELU
  } else {
    config["use_parallel_residual"] = true;
  }
  mg::fs::write_file_atomic(hf / "config.json", config.dump());
  auto res = run_mindgap("import --format hf " + hf.string() + " --out " + (scratch / "refused_config").string(), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("cannot compute that exactly"), std::string::npos) << res.err;
  EXPECT_FALSE(fs::exists(scratch / "refused_config"));
  // A tokenizer.json whose ids disagree with the SentencePiece model.
  mg::fs::write_file_atomic(hf / "config.json", original.dump());
  auto tj = nlohmann::json::parse(mg::fs::read_file(hf / "tokenizer.json"));
  std::swap(tj["model"]["vocab"]["1"], tj["model"]["vocab"]["2"]);
  mg::fs::write_file_atomic(hf / "tokenizer.json", tj.dump());
  res = run_mindgap("import --format hf " + hf.string() + " --out " + (scratch / "refused_tokenizer").string(), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
  EXPECT_NE(res.err.find("tokenizer.json"), std::string::npos) << res.err;
  // An existing run is never overwritten.
  res = run_mindgap("import --format hf " + hf.string() + " --out " + run.string(), scratch);
  EXPECT_EQ(res.code, 2) << res.err;
}

INSTANTIATE_TEST_SUITE_P(Positions, HfImport, ::testing::ValuesIn(kSchemes),
                         [](const ::testing::TestParamInfo<Scheme>& info) { return std::string(info.param.pos); });
