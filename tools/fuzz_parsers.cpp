// Fuzzes the parsers of the files a run reads back (untrusted: a disk, a user or a crash
// may have changed them): safetensors, MANIFEST, state.json, the JSONL files, the recipe YAML
// and the tokenizer model. Each target starts from a valid file written by mindgap itself and
// feeds the parser mutated copies (bit flips, chosen bytes, cuts, deleted, repeated and
// inserted spans, numbers swapped for extreme ones), deterministically from --seed.
// A clean refusal (mg::Error) or acceptance is fine; anything else is counted and printed.
// A crash or a sanitizer report ends the process (non-zero exit); an input that takes longer
// than --hang-s seconds is reported as a hang (exit 3). One table row per target.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <fstream>
#include <random>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/run/manifest.h"
#include "core/report/metrics.h"
#include "core/recipe/recipe.h"
#include "core/run/safetensors.h"
#include "core/tokenizer/tokenizer.h"
#include "trainers/run/sample_io.h"
#include "core/sanitizer_defaults.h"

namespace stdfs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

using Rng = std::mt19937_64;

size_t pick(Rng& rng, size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(rng); }

// One mutation of `s`, chosen at random.
void mutate_once(std::string& s, Rng& rng) {
  static const char interesting[] = {'\0', '\xff', '\x7f', '\x80', '"', '\\', '{', '}', '[', ']',
                                     ':',  ',',    '\n',   '9',    '-', ' ',  '\t', 'e', '.', '#'};
  static const char* numbers[] = {"99999999999999999999", "-1", "1e308", "nan", "-0", "4294967296", "18446744073709551616",
                                  "2147483648", "0", "1e-320"};
  switch (pick(rng, 7)) {
    case 0:  // flip bits
      if (!s.empty())
        for (size_t k = 0, n = 1 + pick(rng, 8); k < n; ++k) s[pick(rng, s.size())] ^= static_cast<char>(1 << pick(rng, 8));
      break;
    case 1:  // a chosen byte
      if (!s.empty()) s[pick(rng, s.size())] = interesting[pick(rng, sizeof interesting)];
      break;
    case 2:  // cut short
      s.resize(pick(rng, s.size() + 1));
      break;
    case 3: {  // delete a span
      size_t at = pick(rng, s.size() + 1), len = pick(rng, std::min<size_t>(64, s.size() - at) + 1);
      s.erase(at, len);
      break;
    }
    case 4: {  // repeat a span somewhere
      size_t at = pick(rng, s.size() + 1), len = pick(rng, std::min<size_t>(64, s.size() - at) + 1);
      std::string span = s.substr(at, len);
      s.insert(pick(rng, s.size() + 1), span);
      break;
    }
    case 5: {  // random bytes
      std::string junk(1 + pick(rng, 16), '\0');
      for (char& c : junk) c = static_cast<char>(pick(rng, 256));
      s.insert(pick(rng, s.size() + 1), junk);
      break;
    }
    default: {  // a run of digits replaced by an extreme number
      size_t at = pick(rng, s.size() + 1);
      while (at < s.size() && !std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
      size_t end = at;
      while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
      s.replace(at, end - at, numbers[pick(rng, std::size(numbers))]);
    }
  }
}

std::string mutated(const std::string& seed, Rng& rng) {
  std::string s = seed;
  for (size_t k = 0, n = 1 + pick(rng, 3); k < n; ++k) mutate_once(s, rng);
  return s;
}

// Plain write, no fsync: a mutated input needs no durability, and an fsync per input would
// make the fuzzer disk-bound.
void put(const stdfs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct Target {
  std::string name;
  std::string seed;                                   // the valid file's bytes
  std::function<void(const std::string&)> parse;      // parses the mutated bytes
};

struct Tally {
  long inputs = 0, accepted = 0, refused = 0, other = 0;
  double seconds = 0, slowest_ms = 0;
  std::string first_other;
};

double g_hang_s = 10;
const char* g_current = "";
void on_alarm(int) {
  char msg[160];
  int n = std::snprintf(msg, sizeof msg, "fuzz: HANG: an input to %s took longer than %.0f s\n", g_current, g_hang_s);
  (void)!::write(STDERR_FILENO, msg, static_cast<size_t>(n));
  ::_exit(3);
}

Tally fuzz(const Target& t, long inputs, uint64_t seed, const stdfs::path& dir) {
  Rng rng(seed ^ std::hash<std::string>{}(t.name));
  Tally tally;
  g_current = t.name.c_str();
  auto start = Clock::now();
  for (long i = 0; i < inputs; ++i) {
    std::string input = i == 0 ? t.seed : mutated(t.seed, rng);  // the seed itself must parse
    alarm(static_cast<unsigned>(std::max(1.0, g_hang_s)));
    auto t0 = Clock::now();
    try {
      t.parse(input);
      ++tally.accepted;
    } catch (const mg::Error&) {
      ++tally.refused;
    } catch (const std::exception& e) {
      if (tally.other++ == 0) tally.first_other = e.what();
    }
    alarm(0);
    tally.slowest_ms = std::max(tally.slowest_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ++tally.inputs;
    if (i == 0 && tally.accepted != 1) {
      std::cerr << "fuzz: " << t.name << ": the unmutated seed file was not accepted" << std::endl;
      std::exit(1);
    }
  }
  tally.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  (void)dir;
  return tally;
}

std::vector<Target> make_targets(const stdfs::path& dir) {
  std::vector<Target> out;
  auto file = [&](const std::string& name, const std::string& bytes) {
    auto p = dir / name;
    mg::fs::write_file_atomic(p, bytes);
    return p;
  };

  // safetensors: a few dtypes and shapes, with metadata.
  {
    auto p = dir / "model.safetensors";
    torch::manual_seed(1);
    mg::save_safetensors(p, {{"w", torch::randn({3, 4})}, {"ids", torch::arange(6, torch::kInt64)},
                             {"h", torch::randn({2, 2}).to(torch::kBFloat16)}, {"flag", torch::ones({1}, torch::kBool)}},
                         {{"round", "1"}, {"distill_start_loss", "1.25"}});
    out.push_back({"safetensors", mg::fs::read_file(p), [p](const std::string& b) {
                     put(p, b);
                     std::map<std::string, std::string> meta;
                     auto t = mg::load_safetensors(p, &meta);
                     for (auto& [name, tensor] : t) (void)tensor.sum().item<double>();
                   }});
  }
  // MANIFEST of a round directory with a nested file.
  {
    auto round = dir / "round";
    stdfs::create_directories(round / "sub");
    mg::fs::write_file_atomic(round / "state.json", "{\"round\": 1}\n");
    mg::fs::write_file_atomic(round / "sub" / "kept.jsonl", "{\"prompt\":0,\"sample\":1,\"weight\":1.0}\n");
    mg::write_manifest(round);
    out.push_back({"manifest", mg::fs::read_file(round / "MANIFEST"), [round](const std::string& b) {
                     put(round / "MANIFEST", b);
                     std::string problem;
                     if (!mg::verify_manifest(round, &problem)) mg::fail_input(problem);
                     if (!mg::verify_manifest(round, &problem, {"state.json"})) mg::fail_input(problem);
                   }});
  }
  // state.json as a round commits it.
  {
    nlohmann::json state = {{"round", 2}, {"J_f", 0.5}, {"gap", 0.01}, {"greedy", {{"1-2", 0.75}}},
                            {"seconds", {{"round", 1.5}}}, {"numerics", {{"device", "cpu"}, {"threads", 1}}}};
    auto p = file("state.json", state.dump(2));
    out.push_back({"state.json", mg::fs::read_file(p), [p](const std::string& b) {
                     put(p, b);
                     auto j = mg::load_state(p);
                     (void)j.dump();
                   }});
  }
  // JSONL: samples with scores, kept rows and metrics rows.
  {
    std::vector<mg::ScoredSample> samples;
    for (int i = 0; i < 6; ++i) samples.push_back({i / 2, i % 2, "0" + std::to_string(17 * i), 0.125 * i, i % 3 == 0});
    auto sp = dir / "scored.jsonl";
    mg::write_samples(sp, samples, true);
    out.push_back({"samples.jsonl", mg::fs::read_file(sp), [sp](const std::string& b) {
                     put(sp, b);
                     (void)mg::read_samples(sp);
                   }});
    auto kp = dir / "kept.jsonl";
    mg::write_kept(kp, {{0, 1, 1.0}, {1, 0, 0.5}, {2, 1, 2.0}});
    out.push_back({"kept.jsonl", mg::fs::read_file(kp), [kp](const std::string& b) {
                     put(kp, b);
                     (void)mg::read_kept(kp);
                   }});
    auto mp = dir / "metrics.jsonl";
    std::string rows = "{\"kind\":\"pretrain_step\",\"step\":4,\"loss\":2.5}\n{\"kind\":\"round\",\"round\":1,\"gap\":0.02}\n";
    mg::fs::write_file_atomic(mp, rows);
    out.push_back({"metrics.jsonl", rows, [mp](const std::string& b) {
                     put(mp, b);
                     (void)mg::read_metrics(mp);
                     mg::MetricsLog log(mp, true);  // a resumed writer: ends a cut line, drops stale rows
                     log.drop([](const nlohmann::json& r) { return r.value("round", 0) >= 1; });
                   }});
  }
  // The recipe as a run directory stores it (every key).
  {
    const char* tiny = "task: {name: addition, digits: [1, 2], eval_prompts: 16}\n"
                       "model: {n_layer: 1, n_head: 2, d_model: 32, max_seq: 32}\n"
                       "pretrain: {steps: 12}\n"
                       "improve: {curriculum: {digits: [3, 4]}, verify: {method: ensemble}}\n"
                       "run: {dir: runs/fuzz}\n";
    std::string yaml = mg::recipe_to_yaml(mg::parse_recipe(tiny, "fuzz seed"));
    out.push_back({"recipe.yaml", yaml, [](const std::string& b) {
                     auto r = mg::parse_recipe(b, "fuzzed recipe");
                     (void)mg::recipe_to_yaml(r);
                   }});
  }
  // The tokenizer model (a SentencePiece protobuf).
  {
    auto p = dir / "tokenizer.model";
    std::vector<std::string> corpus;
    for (int a = 0; a < 100; ++a) corpus.push_back(std::to_string(a) + "+" + std::to_string(a * 7 % 100) + "=");
    mg::Tokenizer::train(corpus, 64, p.string());
    out.push_back({"tokenizer.model", mg::fs::read_file(p), [p](const std::string& b) {
                     put(p, b);
                     auto t = mg::Tokenizer::load(p.string());
                     (void)t.decode(t.encode("12+34=46"));
                   }});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fuzz the parsers of the files a run reads back"};
  long inputs = 10000;
  uint64_t seed = 1;
  std::string only, dir_arg;
  app.add_option("--inputs", inputs, "mutated inputs per target (default 10000)");
  app.add_option("--seed", seed, "seed of the mutations");
  app.add_option("--target", only, "one target (default: all)");
  app.add_option("--dir", dir_arg, "scratch directory (default: a new one under the temp directory)");
  app.add_option("--hang-s", g_hang_s, "seconds one input may take before it counts as a hang");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGALRM, on_alarm);
  mg::log::configure(0, mg::log::Level::Error);  // the parsers' warnings about each bad input
  stdfs::path dir = dir_arg.empty() ? stdfs::temp_directory_path() / ("mg_fuzz_" + std::to_string(getpid())) : stdfs::path(dir_arg);
  stdfs::create_directories(dir);
  int status = 0;
  try {
    auto targets = make_targets(dir);
    std::printf("%-16s %8s %9s %9s %7s %9s %11s\n", "target", "inputs", "accepted", "refused", "other", "seconds", "slowest_ms");
    for (const auto& t : targets) {
      if (!only.empty() && t.name != only) continue;
      Tally r = fuzz(t, inputs, seed, dir);
      std::printf("%-16s %8ld %9ld %9ld %7ld %9.1f %11.1f\n", t.name.c_str(), r.inputs, r.accepted, r.refused, r.other,
                  r.seconds, r.slowest_ms);
      if (r.other) {
        std::printf("  %s: %ld input(s) gave an error other than mg::Error, first: %s\n", t.name.c_str(), r.other,
                    r.first_other.c_str());
        status = 4;
      }
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::cerr << "fuzz: " << e.what() << std::endl;
    status = 1;
  }
  if (dir_arg.empty()) stdfs::remove_all(dir);
  return status;
}
