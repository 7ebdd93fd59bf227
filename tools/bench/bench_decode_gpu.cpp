// bench_decode_gpu: decoding on a GPU through the modules (one kernel launch per operator)
// against the static step captured in a CUDA graph (MINDGAP_DECODE=graph, models/decode_graph.h),
// on the same model and prompts, alternated, with the share of greedy tokens that agree. Without a GPU
// it prints that it was skipped.
//
//   bench_decode_gpu [--pairs N] [--batch B] [--new N] [--layers L] [--width D]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/runtime.h"
#include "models/decoder.h"
#include "models/gpt.h"
#include "tools/bench/bench_support.h"
#include "tools/parse_args.h"

namespace {

struct Leg {
  double secs = 0;
  torch::Tensor tokens;  // [B, new]
  bool captured = false;
};

Leg decode(mg::Gpt& model, const std::vector<std::vector<int>>& prompts, int steps, const std::string& mode) {
  ::setenv("MINDGAP_DECODE", mode.c_str(), 1);
  const auto B = static_cast<int64_t>(prompts.size());
  torch::cuda::synchronize();
  const auto t0 = mg::bench::Clock::now();
  mg::Decoder dec(model, B, static_cast<int64_t>(prompts[0].size()) + steps, torch::kCUDA);
  ::unsetenv("MINDGAP_DECODE");
  Leg leg;
  leg.tokens = mg::bench::greedy_tokens(dec, prompts, steps).cpu();  // waits for the GPU
  leg.secs = mg::bench::seconds_since(t0);
  leg.captured = dec.graph_captured();
  return leg;
}

}  // namespace

int main(int argc, char** argv) {
  mg::ensure_passive_openmp(argv);
  int pairs = 5, batch = 64, steps = 128, layers = 4, width = 128;
  CLI::App app{"GPU decoding: the modules against the CUDA-graph step, alternated"};
  app.add_option("--pairs", pairs, "alternated pairs")->capture_default_str();
  app.add_option("--batch", batch, "rows decoded together")->capture_default_str();
  app.add_option("--new", steps, "new tokens per row")->capture_default_str();
  app.add_option("--layers", layers, "model layers")->capture_default_str();
  app.add_option("--width", width, "model width (heads of 32)")->capture_default_str();
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  if (!torch::cuda::is_available()) {
    std::printf("bench_decode_gpu: skipped: no GPU visible\n");
    return 0;
  }
  mg::set_threads(1);
  torch::manual_seed(1);
  mg::GptConfig c;
  c.vocab = 32, c.n_layer = layers, c.n_head = std::max(1, width / 32), c.d_model = width, c.max_seq = 16 + steps;
  mg::Gpt model(c);
  model->eval();
  model->to(torch::kCUDA);
  std::vector<std::vector<int>> prompts;
  for (int i = 0; i < batch; ++i) {
    std::vector<int> p;
    for (int j = 0; j < 12; ++j) p.push_back(3 + (i * 7 + j * 3) % 28);
    prompts.push_back(p);
  }
  decode(model, prompts, steps, "modules"), decode(model, prompts, steps, "graph");  // warm-up
  std::vector<double> modules, graph, ratio;
  double agree = 1.0;
  bool captured = true;
  for (int p = 0; p < pairs; ++p) {
    Leg a, b;
    if (p % 2 == 0) a = decode(model, prompts, steps, "modules"), b = decode(model, prompts, steps, "graph");
    else b = decode(model, prompts, steps, "graph"), a = decode(model, prompts, steps, "modules");
    modules.push_back(a.secs), graph.push_back(b.secs), ratio.push_back(a.secs / b.secs);
    agree = std::min(agree, a.tokens.eq(b.tokens).to(torch::kFloat64).mean().item<double>());
    captured = captured && b.captured;
  }
  auto ms = [](std::vector<double> v) {
    for (auto& x : v) x *= 1e3;
    return mg::bench::mmm(v, "%.1f");
  };
  std::printf("bench_decode_gpu: L%d d%d, B=%d, %d new (greedy), %d alternated pairs; min / median / max\n\n", layers,
              width, batch, steps, pairs);
  std::printf("| modules ms | CUDA graph ms | ratio (modules / graph) | graph captured | greedy tokens |\n");
  std::printf("|---|---|---|---|---|\n");
  std::printf("| %s | %s | %s | %s | %.1f%% agree (lowest pair) |\n", ms(modules).c_str(), ms(graph).c_str(),
              mg::bench::mmm(ratio).c_str(), captured ? "yes" : "NO", 100.0 * agree);
  return captured ? 0 : 1;
}
