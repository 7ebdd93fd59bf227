// bench_generate: mindgap's decoding on the loop's own path against a plain PyTorch KV-cache
// loop and Hugging Face `generate` on the same weights and prompts
// (tools/bench/bench_generate_ref.py). Two workloads:
//   round  the generate stage of a quick-start round: generate_answers over the recipe's
//          prompts_per_round x samples_per_prompt rows, its sampling settings, stopping at the
//          end token, in chunks of 512 rows
//   long   B = 64 rows of those prompts, 128 new tokens, greedy, no stop: the decode step's
//          steady state (Decoder + the sampling kernel, as generate_answers runs them)
// mindgap runs twice: its fused CPU step, and the module path (MINDGAP_DECODE=modules) that the
// fused step replaces, so the table shows what the fusion gained on the same run.
// The sides are timed alternately, `--pairs` times, in one run; the table gives min/median/max
// of the ratios (reference time / mindgap time; > 1: mindgap faster). Greedy tokens must agree
// with the eager loop (a checksum of every row's tokens is compared). The weights are the
// recipe's model at initialisation: decode speed does not depend on what the weights say, and
// a fresh model rarely ends a row early, so every side runs the same number of steps.
//
//   bench_generate [--recipe PATH] [--pairs N] [--threads N] [--python PATH]
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
#include "kernels/sampling.h"
#include "models/decoder.h"
#include "models/hf_weights.h"
#include "tools/bench/bench_support.h"
#include "tools/parse_args.h"
#include "trainers/sampling/answers.h"
#include "trainers/run/run_context.h"

namespace {

namespace fs = std::filesystem;
using mg::bench::Clock;
using mg::bench::seconds_since;

struct Options : mg::bench::ReferenceOptions {
  int long_rows = 64, long_steps = 128;
  Options() { pairs = 5; }
};

struct Leg {
  double secs = 0;
  long tokens = -1;  // -1: not counted
  unsigned long long hash = 0;
};

// The same checksum as the reference's: tokens of each row before its end, rows in order.
struct TokenHash {
  long n = 0;
  unsigned long long h = 0;
  void add_row(const std::vector<int64_t>& row, int end_id) {
    for (auto t : row) {
      if (t < 0 || t == end_id) break;
      ++n;
      h = static_cast<unsigned long long>((static_cast<unsigned __int128>(h) * 1000003 + t + 1) % (1ULL << 61));
    }
  }
};

// The long workload on mindgap's side: prefill, then one sampling-kernel call and one decoder
// step per token, as generate_answers does (without its end-token bookkeeping).
Leg mindgap_long(mg::Gpt& model, const std::vector<std::vector<int>>& prompts, int steps, int end_id) {
  const auto B = static_cast<int64_t>(prompts.size());
  size_t longest = 0;
  for (const auto& p : prompts) longest = std::max(longest, p.size());
  auto t0 = Clock::now();
  mg::Decoder decoder(model, B, static_cast<int64_t>(longest) + steps, torch::kCPU);
  auto logits = decoder.prefill(prompts);
  auto params = mg::kernels::uniform_params(B, 0.0, 0, 1.0, 0.0, torch::zeros({B}, torch::kInt64),
                                            torch::zeros({B}, torch::kInt64));
  std::vector<torch::Tensor> out;
  for (int t = 0; t < steps; ++t) {
    params.offset.fill_(t);
    auto tokens = mg::kernels::sample(logits, params).tokens;
    out.push_back(tokens);
    if (t + 1 < steps) logits = decoder.step(tokens);
  }
  Leg leg;
  leg.secs = seconds_since(t0);
  auto all = torch::stack(out, 1).contiguous();
  auto acc = all.accessor<int64_t, 2>();
  TokenHash th;
  for (int64_t r = 0; r < B; ++r) th.add_row(std::vector<int64_t>(&acc[r][0], &acc[r][0] + steps), end_id);
  leg.tokens = th.n;
  leg.hash = th.h;
  return leg;
}

Leg parse_reply(const std::string& reply) {
  Leg leg;
  if (std::sscanf(reply.c_str(), "secs=%lf tokens=%ld hash=%llu", &leg.secs, &leg.tokens, &leg.hash) != 3)
    mg::fail_internal("bench_generate: unexpected reply from the reference: " + reply);
  return leg;
}

struct Row {
  std::string name;
  std::vector<double> ours, modules, eager, hf;  // seconds per leg
  Leg last_ours, last_modules, last_eager, last_hf;
};

void print_row(const Row& r, bool with_hf, const std::string& hf_why) {
  using mg::bench::mmm;
  std::vector<double> rm, re, rh;
  for (size_t i = 0; i < r.ours.size(); ++i) {
    rm.push_back(r.modules[i] / r.ours[i]);
    re.push_back(r.eager[i] / r.ours[i]);
    if (with_hf) rh.push_back(r.hf[i] / r.ours[i]);
  }
  auto ms = [](std::vector<double> v) {
    for (auto& x : v) x *= 1e3;
    return mmm(v, "%.0f");
  };
  std::printf("| %s | %s ms | %s ms | %s | %s ms | %s | %s | %s |\n", r.name.c_str(), ms(r.ours).c_str(),
              ms(r.modules).c_str(), mmm(rm).c_str(), ms(r.eager).c_str(), mmm(re).c_str(), with_hf ? (ms(r.hf) + " ms").c_str() : "-",
              with_hf ? mmm(rh).c_str() : ("skipped: " + hf_why).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"mindgap's decoding against a PyTorch KV loop and Hugging Face generate, alternated"};
  mg::bench::add_reference_options(app, o, "model, prompts and sampling are used", "timed rounds (one leg of each side)");
  return mg::bench::run_main(argc, argv, app, [&] {
    const mg::bench::ScratchDir scratch("bench_generate");
    const fs::path& tmp = scratch.path();
    auto recipe = scratch.load_recipe(o.recipe, o.threads);
    // Room for the long workload's 128 new tokens after a prompt.
    recipe.model.max_seq = std::max(recipe.model.max_seq, 64 + o.long_steps);
    mg::RunContext ctx = mg::open_run(recipe);
    const auto& tok = *ctx.tokenizer;
    mg::Gpt model = mg::make_model(ctx);
    model->eval();

    // The round's prompts and the generate stage's request for them.
    const auto& imp = recipe.improve;
    const auto difficulty = mg::difficulty_for_round(recipe, 1);
    mg::GenerateRequest req;
    for (int p = 0; p < imp.prompts_per_round; ++p)
      req.prompts.push_back(ctx.task->generate(recipe.run.seed, static_cast<uint64_t>(p), difficulty).prompt);
    req.samples = imp.samples_per_prompt;
    req.sampling = imp.sampling;
    req.seed = 1;
    req.max_new_tokens = mg::max_answer_tokens(*ctx.task, difficulty);
    std::vector<std::vector<int>> encoded;
    for (const auto& p : req.prompts) encoded.push_back(tok.encode(p));

    // What the references read: weights (mindgap's and as a transformers directory), prompts.
    fs::create_directories(tmp / "ref" / "hf");
    const auto state = mg::module_state(*model);
    mg::save_safetensors(tmp / "ref" / "model.safetensors", state);
    auto hf = mg::to_hf(model->config(), state, tok.end_id(), tok.pad_id());
    std::ofstream(tmp / "ref" / "hf" / "config.json") << hf.config.dump(2);
    mg::save_safetensors(tmp / "ref" / "hf" / "model.safetensors", hf.tensors);
    const auto& c = model->config();
    nlohmann::json meta = {{"vocab", c.vocab},     {"n_layer", c.n_layer}, {"n_head", c.n_head},
                           {"d_model", c.d_model}, {"max_seq", c.max_seq}, {"pos", c.pos},
                           {"end_id", tok.end_id()}, {"pad_id", tok.pad_id()}};
    std::ofstream(tmp / "ref" / "meta.json") << meta.dump();
    nlohmann::json round_chunks = nlohmann::json::array();
    const int64_t rows = static_cast<int64_t>(encoded.size()) * req.samples;
    for (int64_t first = 0; first < rows; first += req.max_rows) {
      nlohmann::json chunk = nlohmann::json::array();
      for (int64_t r = first; r < std::min<int64_t>(rows, first + req.max_rows); ++r) chunk.push_back(encoded[r / req.samples]);
      round_chunks.push_back(chunk);
    }
    std::vector<std::vector<int>> long_prompts;
    for (int i = 0; i < o.long_rows; ++i) long_prompts.push_back(encoded[i % encoded.size()]);
    nlohmann::json workloads = {
        {"round",
         {{"chunks", round_chunks}, {"steps", req.max_new_tokens}, {"temperature", req.sampling.temperature}, {"stop", true}}},
        {"long", {{"chunks", {long_prompts}}, {"steps", o.long_steps}, {"temperature", 0.0}, {"stop", false}}}};
    std::ofstream(tmp / "ref" / "workloads.json") << workloads.dump();

    mg::bench::CoProcess ref;
    std::string why;
    const std::string cmd = "OMP_WAIT_POLICY=PASSIVE '" + mg::bench::find_python(o.python) + "' '" +
                            mg::bench::find_tool_file("tools/bench/bench_generate_ref.py") + "' --dir '" +
                            (tmp / "ref").string() + "' --threads " + std::to_string(o.threads);
    if (!ref.start(cmd, why)) {
      std::printf("bench_generate: skipped: %s\n", why.c_str());
      return 0;
    }
    const std::string hello = ref.greeting();
    const bool with_hf = hello.find("no-hf") == std::string::npos;
    const std::string hf_why = with_hf ? "" : "transformers unavailable (" + hello.substr(hello.find("no-hf") + 6) + ")";

    std::printf("bench_generate: %s (%s, %lld parameters, initialised weights), %d threads, %d alternated pairs, "
                "allocator: %s\n",
                o.recipe.c_str(), c.pos.c_str(), static_cast<long long>(model->num_parameters()), o.threads, o.pairs,
                mg::allocator_tuning().c_str());
    std::printf("ratio = reference time / mindgap time for the same workload (> 1: mindgap faster); min / median / max\n\n");
    std::printf("| workload | mindgap | mindgap, module path | ratio vs modules | PyTorch KV loop | ratio vs KV loop | "
                "HF generate | ratio vs HF |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");

    const std::string round_name = "round: " + std::to_string(rows) + " rows (" + std::to_string(imp.prompts_per_round) +
                                   " x " + std::to_string(req.samples) + "), <= " + std::to_string(req.max_new_tokens) +
                                   " new, T=" + mg::bench::fmt(req.sampling.temperature, "%.1f") + ", stop at end";
    const std::string long_name = "long: B=" + std::to_string(o.long_rows) + ", " + std::to_string(o.long_steps) +
                                  " new, greedy";
    Row round_row{round_name}, long_row{long_name};
    auto ours = [&](const std::string& w, bool fused = true) {
      // The decoder reads the switch when it is made, once per leg.
      if (!fused) ::setenv("MINDGAP_DECODE", "modules", 1);
      struct Unset {
        ~Unset() { ::unsetenv("MINDGAP_DECODE"); }
      } unset;
      if (w == "long") return mindgap_long(model, long_prompts, o.long_steps, tok.end_id());
      Leg leg;
      auto t0 = Clock::now();
      auto answers = mg::generate_answers(model, tok, req, torch::kCPU);
      leg.secs = seconds_since(t0);
      return leg;
    };
    auto theirs = [&](const std::string& side, const std::string& w) { return parse_reply(ref.ask(side + " " + w)); };
    for (const std::string w : {"round", "long"}) {
      Row& row = w == "round" ? round_row : long_row;
      ours(w), ours(w, false), theirs("eager", w);  // warm-up
      if (with_hf) theirs("hf", w);
      for (int p = 0; p < o.pairs; ++p) {
        // Rotate the order, so that a trend in the load does not favour one side.
        Leg a, m, b, h;
        switch (p % 4) {
          case 0: a = ours(w), m = ours(w, false), b = theirs("eager", w), h = with_hf ? theirs("hf", w) : Leg{}; break;
          case 1: m = ours(w, false), b = theirs("eager", w), h = with_hf ? theirs("hf", w) : Leg{}, a = ours(w); break;
          case 2: b = theirs("eager", w), h = with_hf ? theirs("hf", w) : Leg{}, a = ours(w), m = ours(w, false); break;
          default: h = with_hf ? theirs("hf", w) : Leg{}, a = ours(w), m = ours(w, false), b = theirs("eager", w); break;
        }
        row.ours.push_back(a.secs), row.modules.push_back(m.secs), row.eager.push_back(b.secs), row.hf.push_back(h.secs);
        row.last_ours = a, row.last_modules = m, row.last_eager = b, row.last_hf = h;
      }
      print_row(row, with_hf, hf_why);
    }
    std::printf("\nlong, greedy tokens: mindgap %ld, module path %ld (%s), KV loop %ld (%s)", long_row.last_ours.tokens,
                long_row.last_modules.tokens,
                long_row.last_ours.hash == long_row.last_modules.hash ? "identical" : "DIFFERENT",
                long_row.last_eager.tokens,
                long_row.last_ours.hash == long_row.last_eager.hash ? "identical" : "DIFFERENT");
    if (with_hf)
      std::printf(", HF %ld (%s)", long_row.last_hf.tokens,
                  long_row.last_hf.hash == long_row.last_ours.hash ? "identical" : "different");
    std::printf("\nround, tokens generated before the end token: KV loop %ld%s (mindgap samples with its own Philox "
                "draws, so counts differ slightly)\n",
                round_row.last_eager.tokens, with_hf ? (", HF " + std::to_string(round_row.last_hf.tokens)).c_str() : "");
    return long_row.last_ours.hash == long_row.last_eager.hash && long_row.last_ours.hash == long_row.last_modules.hash
               ? 0
               : 1;
  });
}
