#pragma once
// What the benchmarks share: the frame of their main, a throwaway run directory, a clock,
// min/median/max of alternated pairs, greedy decoding, finding the venv's python and the
// repository's files from the build directory, and a reference process that is kept alive and
// asked for one leg at a time, so that the two sides of a comparison alternate in one run
// instead of running one after the other.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/errors.h"
#include "core/recipe/recipe.h"
#include "core/runtime.h"
#include "tools/parse_args.h"

namespace mg {
class Decoder;
}

namespace mg::bench {

// The options of every benchmark against a PyTorch reference: the recipe whose work is timed,
// how many alternated pairs, the CPU threads of every side, the python that runs the reference.
struct ReferenceOptions {
  std::string recipe = "recipes/tiny_addition.yaml";
  int pairs = 3, threads = 2;
  std::string python;
};
// Declares them on `app`, in the benchmark's own words for what the recipe gives and what a pair is.
inline void add_reference_options(CLI::App& app, ReferenceOptions& o, const std::string& recipe_gives,
                                  const std::string& a_pair) {
  app.add_option("--recipe", o.recipe, "recipe whose " + recipe_gives)->capture_default_str();
  app.add_option("--pairs", o.pairs, a_pair)->capture_default_str();
  app.add_option("--threads", o.threads, "CPU threads for every side")->capture_default_str();
  app.add_option("--python", o.python, "python with torch (default: $MINDGAP_PYTHON, the venv, python3)");
}

// A benchmark's main around its body: OpenMP threads that sleep when idle (re-executes the
// program when that has to be set), the allocator tuned as the CLI tunes it, the options
// declared on `app` parsed, and a mindgap error reported as one line with its exit code.
template <class Body>
int run_main(int argc, char** argv, CLI::App& app, Body&& body) {
  mg::ensure_passive_openmp(argv);
  mg::tune_allocator();
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  try {
    return body();
  } catch (const mg::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  }
}

// A throwaway directory for one benchmark run, <temp>/<name>.<pid>: made now and removed when
// the benchmark ends, however it ends.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  // The recipe at `recipe` (found as find_tool_file finds it) run in <this>/run, on the CPU with
  // `threads` threads: how the in-process benchmarks run a recipe without touching its runs/.
  mg::Recipe load_recipe(const std::string& recipe, int threads) const;

 private:
  std::filesystem::path path_;
};

// Greedy decoding of `steps` tokens after `prompts` through `dec` (freshly made for them):
// the prefill, then argmax and one step per token. Returns the new tokens, [B, steps], on the
// decoder's device.
torch::Tensor greedy_tokens(mg::Decoder& dec, const std::vector<std::vector<int>>& prompts, int steps);

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline std::string fmt(double v, const char* f = "%.0f") {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
// "min / median / max" of a sample.
inline std::string mmm(const std::vector<double>& v, const char* f = "%.2f") {
  if (v.empty()) return "n/a";
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return fmt(*lo, f) + " / " + fmt(median(v), f) + " / " + fmt(*hi, f);
}

// `explicit_path`, else $MINDGAP_PYTHON, else the venv that tools/setup.sh makes, else python3.
inline std::string find_python(const std::string& explicit_path = "") {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* p = std::getenv("MINDGAP_PYTHON")) return p;
  if (const char* home = std::getenv("HOME")) {
    auto venv = std::filesystem::path(home) / ".cache/mindgap/venv/bin/python";
    if (std::filesystem::exists(venv)) return venv.string();
  }
  return "python3";
}

// A path relative to the repository, found from the working directory or from the executable's
// place in the build directory; returned unchanged when found nowhere (the caller's open fails
// with the name).
inline std::string find_tool_file(const std::string& relative) {
  std::filesystem::path rel = relative;
  if (rel.is_absolute() || std::filesystem::exists(rel)) return rel.string();
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
      if (std::filesystem::exists(dir / rel)) return (dir / rel).string();
  return rel.string();
}

// A shell command run with pipes on its stdin and stdout. The reference prints "ready" once set
// up; each `ask` writes one line and reads one line back.
class CoProcess {
 public:
  bool start(const std::string& command, std::string& why) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return why = "cannot create pipes", false;
    pid_ = ::fork();
    if (pid_ < 0) return why = "cannot fork", false;
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = ::fdopen(in[1], "w");
    from_ = ::fdopen(out[0], "r");
    auto first = read_line();
    greeting_ = first;
    if (first.rfind("ready", 0) != 0) {
      why = "reference did not start (python with torch missing?): " + first.substr(0, 120);
      return false;
    }
    return true;
  }
  // The reference's first line ("ready" and whatever it adds, e.g. what it could not load).
  const std::string& greeting() const { return greeting_; }
  std::string ask(const std::string& line) {
    std::fprintf(to_, "%s\n", line.c_str());
    std::fflush(to_);
    return read_line();
  }
  ~CoProcess() {
    if (to_ != nullptr) {
      std::fprintf(to_, "quit\n");
      std::fclose(to_);
    }
    if (from_ != nullptr) std::fclose(from_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

 private:
  std::string read_line() {
    std::string s;
    char buf[512];
    while (std::fgets(buf, sizeof buf, from_) != nullptr) {
      s += buf;
      if (!s.empty() && s.back() == '\n') break;
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  pid_t pid_ = -1;
  std::string greeting_;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

}  // namespace mg::bench
