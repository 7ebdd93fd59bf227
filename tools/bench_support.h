#pragma once
// What the benchmarks share: a clock, min/median/max of alternated pairs, finding the venv's
// python and the repository's files from the build directory, and a reference process that is
// kept alive and asked for one leg at a time, so that the two sides of a comparison alternate
// in one run instead of running one after the other.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace mg::bench {

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

// Removes a scratch directory when the benchmark ends, however it ends.
struct RemoveOnExit {
  std::filesystem::path dir;
  explicit RemoveOnExit(std::filesystem::path d) : dir(std::move(d)) {}
  ~RemoveOnExit() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

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
