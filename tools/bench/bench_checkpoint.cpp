// Checkpoint I/O throughput: safetensors save/load, SHA-256, the finiteness check of the
// weights (run on every load and before every commit), and a full round commit (MANIFEST +
// fsync + rename + LATEST), for a tiny-model-sized file and a larger one.
// usage: bench_checkpoint [dir] (default: a fresh directory under the system temp dir)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "core/run/checkpoint.h"
#include "core/run/finite_check.h"
#include "core/run/manifest.h"
#include "core/runtime.h"
#include "core/run/safetensors.h"
#include "tools/parse_args.h"

namespace stdfs = std::filesystem;

namespace {

template <class F>
double best_of(int reps, F&& f) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// `params` floats spread over tensors like a small GPT's (a few big matrices, many vectors).
mg::NamedTensors fake_model(int64_t params) {
  mg::NamedTensors t;
  int64_t left = params;
  for (int i = 0; left > 0; ++i) {
    int64_t n = std::min<int64_t>(left, i % 4 == 3 ? 128 : params / 12 + 1);
    t.emplace_back("layer." + std::to_string(i), torch::randn({n}));
    left -= n;
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  stdfs::path dir = stdfs::temp_directory_path() / ("mg_bench_checkpoint_" + std::to_string(::getpid()));
  CLI::App app{"checkpoint I/O throughput: safetensors save/load, SHA-256 and a round commit"};
  app.add_option("dir", dir, "scratch directory, removed at the end (default: a fresh one under the temp dir)");
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  mg::set_threads(1);
  stdfs::create_directories(dir);
  std::printf("%-10s %10s %12s %12s %12s %10s %14s\n", "params", "MB", "save MB/s", "load MB/s", "sha256 MB/s",
              "finite ms", "commit ms");
  for (int64_t params : {812'000LL, 16'000'000LL}) {
    auto tensors = fake_model(params);
    double mb = params * 4 / 1e6;
    auto file = dir / "model.safetensors";
    double save = best_of(3, [&] { mg::save_safetensors(file, tensors); });
    double load = best_of(3, [&] { mg::load_safetensors(file); });
    double sha = best_of(3, [&] { mg::sha256_file(file); });
    double finite = best_of(5, [&] {
      if (mg::first_non_finite(tensors)) std::abort();  // randn is finite
    });
    mg::RunDir run;
    run.root = dir / ("run" + std::to_string(params));
    double commit = 1e30;
    for (int round = 0; round < 3; ++round) {  // the commit alone: MANIFEST, fsync, rename, LATEST
      mg::RoundWriter w(run, round);
      stdfs::copy_file(file, w.dir() / "model.safetensors");
      auto t0 = std::chrono::steady_clock::now();
      w.commit();
      commit = std::min(commit, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("%-10lld %10.1f %12.0f %12.0f %12.0f %10.2f %14.1f\n", static_cast<long long>(params), mb, mb / save,
                mb / load, mb / sha, finite * 1e3, commit * 1e3);
  }
  stdfs::remove_all(dir);
  return 0;
}
