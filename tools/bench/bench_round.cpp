// bench_round: one improvement round of a recipe, as `mindgap improve` runs it (a process of its
// own: start-up, loading round-0000, generate, verify, filter, distill, eval, writing the round),
// against a PyTorch script doing the same work (tools/bench/bench_round_ref.py): load the same
// weights; sample the same prompts the same number of times with a KV cache; a majority vote
// per prompt; the same number of distillation steps on the batches mindgap built for that round
// (same tokens, weights and learning rates); greedy accuracy on the same held-out prompts; save
// weights and optimizer. The two sides are timed alternately, `--pairs` times, in one run.
//
//   bench_round [--recipe PATH] [--pairs N] [--threads N] [--python PATH] [--base RUN_DIR]
//
// Without --base it first pretrains round-0000 with `mindgap pretrain` (minutes).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/errors.h"
#include "core/runtime.h"
#include "core/run/safetensors.h"
#include "trainers/sampling/answers.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/run_context.h"
#include "trainers/run/sample_io.h"
#include "trainers/stages/distill_batches.h"
#include "trainers/training/batch.h"
#include "trainers/stages/evaluate_held_out.h"
#include "tools/bench/bench_support.h"
#include "tools/parse_args.h"

namespace {

namespace fs = std::filesystem;
using mg::bench::Clock;
using mg::bench::seconds_since;

struct Options : mg::bench::ReferenceOptions {
  std::string base;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The mindgap binary beside this one (both are built into the build directory).
std::string mindgap_binary() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) mg::fail_internal("bench_round: cannot find its own executable");
  return (exe.parent_path() / "mindgap").string();
}

std::string overrides(const fs::path& dir, int threads) {
  return " run.dir=" + quoted(dir.string()) + " run.threads=" + std::to_string(threads) + " run.device=cpu";
}

void run_or_fail(const std::string& cmd, const fs::path& log) {
  const int rc = std::system((cmd + " > " + quoted(log.string()) + " 2>&1").c_str());
  if (rc != 0) mg::fail_internal("bench_round: `" + cmd + "` failed (exit " + std::to_string(rc) + "); see " + log.string());
}

// The mindgap side: round 1 on a fresh copy of the pretrained run, as its own process.
struct OurLeg {
  double secs = 0;
  nlohmann::json stages;  // the round's own "seconds" record
  nlohmann::json greedy;  // its held-out greedy accuracy
};

OurLeg mindgap_round(const Options& o, const fs::path& base, const fs::path& leg) {
  std::error_code ec;
  fs::remove_all(leg, ec);
  fs::copy(base, leg, fs::copy_options::recursive);
  const std::string cmd = "OMP_WAIT_POLICY=PASSIVE " + quoted(mindgap_binary()) + " improve " +
                          quoted(mg::bench::find_tool_file(o.recipe)) + overrides(leg, o.threads) + " improve.rounds=1";
  OurLeg out;
  const auto t0 = Clock::now();
  run_or_fail(cmd, leg.parent_path() / (leg.filename().string() + ".log"));
  out.secs = seconds_since(t0);
  std::ifstream metrics(leg / "metrics.jsonl");
  for (std::string line; std::getline(metrics, line);) {
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_object() && row.value("kind", "") == "round") out.stages = row["seconds"], out.greedy = row["greedy"];
  }
  return out;
}

// What the PyTorch side reads: round-0000's weights, the round's prompts (as the generate stage
// chunks them), the distillation batches mindgap built from what its round kept, and the
// held-out prompts with their answers.
void write_reference_inputs(const fs::path& dir, const fs::path& run, const Options& o) {
  fs::create_directories(dir);
  auto recipe = mg::load_recipe(mg::bench::find_tool_file(o.recipe),
                                {"run.dir=" + run.string(), "run.threads=" + std::to_string(o.threads),
                                 "run.device=cpu", "improve.rounds=1"});
  mg::RunContext ctx = mg::open_run(recipe);
  const auto& tok = *ctx.tokenizer;
  mg::Gpt model = mg::make_model(ctx);
  fs::copy_file(run / "round-0000" / "model.safetensors", dir / "model.safetensors");

  const auto& imp = recipe.improve;
  const mg::Round round = mg::make_round(ctx, 1);
  nlohmann::json chunks = nlohmann::json::array(), chunk = nlohmann::json::array();
  const int max_rows = mg::GenerateRequest{}.max_rows;
  for (const auto& p : round.prompts)
    for (int s = 0; s < imp.samples_per_prompt; ++s) {
      chunk.push_back(tok.encode(p));
      if (static_cast<int>(chunk.size()) == max_rows) chunks.push_back(chunk), chunk = nlohmann::json::array();
    }
  if (!chunk.empty()) chunks.push_back(chunk);

  const auto round_dir = run / "round-0001";
  const auto candidates = mg::split_candidates(mg::read_samples(round_dir / "scored.jsonl"));
  const auto kept = mg::read_kept(round_dir / "kept.jsonl");
  const auto examples = mg::distill_examples(ctx, 1, round.prompts, candidates, kept);
  mg::DistillBatches batches(ctx, 1, examples);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  nlohmann::json lrs = nlohmann::json::array();
  std::vector<mg::Example> batch;
  std::vector<float> weights;
  for (int step = 0; step < imp.distill.steps; ++step) {
    batches.next(batch, weights);
    auto b = mg::make_batch(batch, tok, recipe.model.max_seq, weights);
    const std::string s = std::to_string(step);
    tensors.push_back({"inputs-" + s, b.inputs});
    tensors.push_back({"targets-" + s, b.targets});
    tensors.push_back({"weights-" + s, b.weights});
    lrs.push_back(mg::distill_lr(imp.distill, step));
  }
  mg::save_safetensors(dir / "distill.safetensors", tensors);

  const auto problems = mg::eval_problems(*ctx.task, recipe.run.seed, mg::difficulty_for_round(recipe, 0),
                                          recipe.task.eval_prompts);
  nlohmann::json eval_prompts = nlohmann::json::array(), eval_answers = nlohmann::json::array();
  size_t longest = 0;
  for (const auto& p : problems) {
    eval_prompts.push_back(tok.encode(p.prompt));
    eval_answers.push_back(tok.encode(p.answer));
    longest = std::max(longest, p.answer.size());
  }
  const auto& c = model->config();
  nlohmann::json meta = {
      {"vocab", c.vocab}, {"n_layer", c.n_layer}, {"n_head", c.n_head}, {"d_model", c.d_model},
      {"max_seq", c.max_seq}, {"pos", c.pos}, {"end_id", tok.end_id()}, {"pad_id", tok.pad_id()},
      {"generate", {{"chunks", chunks}, {"samples", imp.samples_per_prompt},
                    {"steps", mg::max_answer_tokens(*ctx.task, round.difficulty)},
                    {"temperature", imp.sampling.temperature}, {"keep_share", imp.filter.threshold}}},
      {"distill", {{"steps", imp.distill.steps}, {"lr", lrs}, {"weight_decay", recipe.pretrain.weight_decay},
                   {"grad_clip", recipe.pretrain.grad_clip}}},
      {"eval", {{"prompts", eval_prompts}, {"answers", eval_answers}, {"steps", longest + 2},
                {"max_rows", max_rows}}}};
  std::ofstream(dir / "meta.json") << meta.dump();
}

struct Reply {
  double secs = 0;
  nlohmann::json stages;
};

Reply parse_reply(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("secs"))
    mg::fail_internal("bench_round: unexpected reply from the reference: " + line.substr(0, 200));
  return {j["secs"].get<double>(), j["stages"]};
}

double stage(const nlohmann::json& s, const char* name) { return s.is_object() ? s.value(name, 0.0) : 0.0; }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"one improvement round of `mindgap improve` against a PyTorch script doing the same work, alternated"};
  mg::bench::add_reference_options(app, o, "round 1 is timed", "timed rounds of each side");
  app.add_option("--base", o.base, "a run directory with round-0000 to start from (default: pretrain one)");
  return mg::bench::run_main(argc, argv, app, [&] {
    const mg::bench::ScratchDir scratch("bench_round");
    const fs::path& tmp = scratch.path();
    fs::path base = o.base;
    if (base.empty()) {
      base = tmp / "base";
      std::printf("bench_round: pretraining round-0000 of %s (mindgap pretrain) ...\n", o.recipe.c_str());
      std::fflush(stdout);
      run_or_fail("OMP_WAIT_POLICY=PASSIVE " + quoted(mindgap_binary()) + " pretrain " +
                      quoted(mg::bench::find_tool_file(o.recipe)) + overrides(base, o.threads),
                  tmp / "pretrain.log");
    }
    if (!fs::exists(base / "round-0000" / "model.safetensors"))
      mg::fail_input("bench_round: " + base.string() + " has no round-0000/model.safetensors");

    // A first mindgap round (warm-up) whose kept samples give the reference its batches.
    std::printf("bench_round: a first round of each side (warm-up) ...\n");
    std::fflush(stdout);
    const auto first = tmp / "leg-first";
    mindgap_round(o, base, first);
    write_reference_inputs(tmp / "ref", first, o);

    mg::bench::CoProcess ref;
    std::string why;
    const std::string cmd = "OMP_WAIT_POLICY=PASSIVE " + quoted(mg::bench::find_python(o.python)) + " " +
                            quoted(mg::bench::find_tool_file("tools/bench/bench_round_ref.py")) + " --dir " +
                            quoted((tmp / "ref").string()) + " --threads " + std::to_string(o.threads);
    if (!ref.start(cmd, why)) {
      std::printf("bench_round: skipped: %s\n", why.c_str());
      return 0;
    }
    parse_reply(ref.ask("round"));  // warm-up

    std::vector<double> ratio, ours, theirs;
    std::vector<nlohmann::json> our_stages, their_stages;
    OurLeg a_last;
    for (int p = 0; p < o.pairs; ++p) {
      // Alternate which side goes first, so that a trend in the load does not favour one.
      OurLeg a;
      Reply b;
      const auto leg = tmp / "leg";
      if (p % 2 == 0) a = mindgap_round(o, base, leg), b = parse_reply(ref.ask("round"));
      else b = parse_reply(ref.ask("round")), a = mindgap_round(o, base, leg);
      ours.push_back(a.secs), theirs.push_back(b.secs), ratio.push_back(b.secs / a.secs);
      our_stages.push_back(a.stages), their_stages.push_back(b.stages);
      a_last = a;
      std::printf("  pair %d: mindgap %.1f s, PyTorch %.1f s\n", p + 1, a.secs, b.secs);
      std::fflush(stdout);
    }
    std::printf("\nbench_round: %s, round 1, %d threads, %d alternated pairs, allocator: %s\n", o.recipe.c_str(),
                o.threads, o.pairs, mg::allocator_tuning().c_str());
    std::printf("ratio = PyTorch time / mindgap time (> 1: mindgap faster); min / median / max\n\n");
    std::printf("| | mindgap s | PyTorch s | ratio |\n|---|---|---|---|\n");
    std::printf("| whole round (mindgap: the `mindgap improve` process) | %s | %s | %s |\n",
                mg::bench::mmm(ours, "%.1f").c_str(), mg::bench::mmm(theirs, "%.1f").c_str(),
                mg::bench::mmm(ratio).c_str());
    for (const char* name : {"generate", "verify", "distill", "eval"}) {
      std::vector<double> x, y, r;
      for (int p = 0; p < o.pairs; ++p) {
        x.push_back(stage(our_stages[p], name)), y.push_back(stage(their_stages[p], name));
        r.push_back(x.back() > 0 ? y.back() / x.back() : 0.0);
      }
      std::printf("| %s stage | %s | %s | %s |\n", name, mg::bench::mmm(x, "%.2f").c_str(),
                  mg::bench::mmm(y, "%.2f").c_str(), mg::bench::mmm(r).c_str());
    }
    std::printf("\nheld-out greedy accuracy after the round: mindgap %s, PyTorch %.3f (%d prompts kept by its vote)\n",
                a_last.greedy.dump().c_str(), stage(their_stages.back(), "greedy"),
                static_cast<int>(stage(their_stages.back(), "kept")));
    std::printf("\nmindgap's stage times are the round's own (metrics.jsonl); its whole-round time also counts\n"
                "process start-up, loading round-0000 and writing round-0001 (files, checksums, plot).\n"
                "PyTorch's verify stage is a majority vote over token sequences; its eval compares tokens.\n");
    return 0;
  });
}
