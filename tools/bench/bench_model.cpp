// bench_model: (1) training throughput of the GPT alone on the tiny shape (forward,
// cross-entropy over every position, backward, AdamW) on one random batch, and (2) KV-cached
// decoding against recomputing the whole prefix at every new token. One table on stdout.
// The comparison with PyTorch on the real training step is bench_train_step's (alternated).
//
//   bench_model [--pos rope|learned|none] [--steps N] [--threads N] [--new-tokens N] [--pairs N]
//               [--decode-batch N]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/errors.h"
#include "core/runtime.h"
#include "models/decoder.h"
#include "models/flops.h"
#include "models/gpt.h"
#include "tools/bench/bench_support.h"
#include "tools/parse_args.h"

namespace {

using mg::bench::Clock;
using mg::bench::fmt;
using mg::bench::seconds_since;

struct Options {
  std::string pos = "rope";
  int steps = 20, warmup = 3, threads = 2, batch = 128, seq = 16;
  int new_tokens = 128, decode_batch = 64, prompt_len = 16, pairs = 3;
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--pos", o.pos, "position encoding: rope, learned or none")->capture_default_str();
  app.add_option("--steps", o.steps, "timed training steps")->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads")->capture_default_str();
  app.add_option("--new-tokens", o.new_tokens, "tokens decoded after each prompt")->capture_default_str();
  app.add_option("--decode-batch", o.decode_batch, "prompts decoded at once")->capture_default_str();
  app.add_option("--pairs", o.pairs, "alternated pairs of the two decoding legs")->capture_default_str();
}

mg::GptConfig tiny(const std::string& pos, int max_seq) {
  mg::GptConfig c;
  c.vocab = 32;
  c.n_layer = 4;
  c.n_head = 4;
  c.d_model = 128;
  c.max_seq = max_seq;
  c.pos = pos;
  c.validate();
  return c;
}

// Training tokens/s of mindgap's GPT.
double train_tokens_per_s(const Options& o) {
  torch::manual_seed(0);
  mg::Gpt model(tiny(o.pos, 64));
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.1));
  auto data = torch::randint(32, {o.batch, o.seq + 1}, torch::kInt64);
  auto x = data.narrow(1, 0, o.seq), y = data.narrow(1, 1, o.seq).reshape({-1});
  auto step = [&] {
    opt.zero_grad(true);
    auto loss = torch::cross_entropy_loss(model->forward(x).view({-1, 32}), y);
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < o.warmup; ++i) step();
  auto t0 = Clock::now();
  for (int i = 0; i < o.steps; ++i) step();
  return static_cast<double>(o.steps) * o.batch * o.seq / seconds_since(t0);
}

// Greedy decoding of `new_tokens` tokens after equal-length prompts: with the KV cache, or by
// running the whole prefix through the model for every new token. Returns seconds; `tokens`
// gets the generated ids so the two can be compared.
double decode_cached(mg::Gpt& model, const std::vector<std::vector<int>>& prompts, int new_tokens,
                     torch::Tensor& tokens) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  auto t0 = Clock::now();
  mg::Decoder dec(model, B, static_cast<int64_t>(prompts[0].size()) + new_tokens, torch::kCPU);
  tokens = mg::bench::greedy_tokens(dec, prompts, new_tokens);
  return seconds_since(t0);
}

double decode_recompute(mg::Gpt& model, const std::vector<std::vector<int>>& prompts, int new_tokens,
                        torch::Tensor& tokens) {
  torch::NoGradGuard no_grad;
  const int64_t B = static_cast<int64_t>(prompts.size()), P = static_cast<int64_t>(prompts[0].size());
  auto seq = torch::empty({B, P}, torch::kInt64);
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < P; ++j) seq[i][j] = prompts[i][j];
  auto t0 = Clock::now();
  for (int s = 0; s < new_tokens; ++s) {
    auto h = model->hidden(seq);
    auto next = model->logits(h.select(1, h.size(1) - 1)).argmax(-1);
    seq = torch::cat({seq, next.unsqueeze(1)}, 1);
  }
  tokens = seq.narrow(1, P, new_tokens);
  return seconds_since(t0);
}

void row(const std::string& what, const std::string& value, const std::string& note = "") {
  std::printf("| %-44s | %14s | %-34s |\n", what.c_str(), value.c_str(), note.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"training throughput of the tiny GPT and KV-cached decoding"};
  add_options(app, o);
  return mg::bench::run_main(argc, argv, app, [&] {
    mg::set_threads(o.threads);
    auto cfg = tiny(o.pos, 64);
    std::string shape = "L4 H4 d128 V32, " + o.pos + ", batch " + std::to_string(o.batch) + " x seq " +
                        std::to_string(o.seq);

    double ours = train_tokens_per_s(o);

    // Decoding: prompts of equal length so that the recompute baseline is a plain causal forward.
    torch::manual_seed(1);
    mg::Gpt model(tiny(o.pos, o.prompt_len + o.new_tokens));
    model->eval();
    std::vector<std::vector<int>> prompts(o.decode_batch);
    for (int i = 0; i < o.decode_batch; ++i)
      for (int j = 0; j < o.prompt_len; ++j) prompts[i].push_back((i * 7 + j * 3) % 32);
    torch::Tensor a, b;
    decode_cached(model, prompts, 4, a);  // warm-up
    // The legs alternate, the order turning each pair, so that a trend in the load favours neither.
    std::vector<double> cached, full, ratio;
    for (int p = 0; p < std::max(1, o.pairs); ++p) {
      double c, f;
      if (p % 2 == 0) {
        c = decode_cached(model, prompts, o.new_tokens, a), f = decode_recompute(model, prompts, o.new_tokens, b);
      } else {
        f = decode_recompute(model, prompts, o.new_tokens, b), c = decode_cached(model, prompts, o.new_tokens, a);
      }
      cached.push_back(c), full.push_back(f), ratio.push_back(f / c);
    }
    double agree = a.eq(b).to(torch::kFloat64).mean().item<double>();

    std::printf("bench_model: %s, %d threads, %d timed steps\n", shape.c_str(), o.threads, o.steps);
    std::printf("| %-44s | %14s | %-34s |\n", "measure", "value", "note");
    std::printf("|%s|%s|%s|\n", std::string(46, '-').c_str(), std::string(16, '-').c_str(), std::string(36, '-').c_str());
    row("train tokens/s (all batch x seq input tokens)", fmt(ours),
        fmt(ours * mg::flops_per_token(cfg, o.seq, true) / 1e9, "%.1f") + " GFLOP/s (PaLM count)");
    const double new_tok = static_cast<double>(o.decode_batch) * o.new_tokens;
    std::string dshape = "batch " + std::to_string(o.decode_batch) + ", prompt " + std::to_string(o.prompt_len) + " + " +
                         std::to_string(o.new_tokens) + " new";
    row("decode KV-cached, new tokens/s (median)", fmt(new_tok / mg::bench::median(cached)), dshape);
    row("decode recompute prefix, new tokens/s (median)", fmt(new_tok / mg::bench::median(full)), dshape);
    row("speed-up of the cache, min / med / max", mg::bench::mmm(ratio, "%.1f"),
        std::to_string(ratio.size()) + " alternated pairs; greedy tokens agree: " + fmt(100 * agree, "%.1f%%"));
    return 0;
  });
}
