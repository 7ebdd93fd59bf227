#include "core/report/plot.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/log.h"

extern char** environ;

namespace mg {

namespace {

#ifndef MG_PYTHON
#define MG_PYTHON ""
#endif
#ifndef MG_PLOT_SCRIPT
#define MG_PLOT_SCRIPT ""
#endif

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

// Runs argv (searching PATH for argv[0]) with stdout and stderr captured; returns the exit
// status (-1 when it could not start or was killed by a signal).
int run_captured(const std::vector<std::string>& args, std::string* output) {
  int fds[2];
  if (::pipe(fds) != 0) {
    *output = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    *output = "cannot start " + args[0] + ": " + std::strerror(rc);
    return -1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    output->append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string plot_python() { return env_or("MINDGAP_PYTHON", std::string(MG_PYTHON).empty() ? "python3" : MG_PYTHON); }

std::string plot_script() { return env_or("MINDGAP_PLOT_SCRIPT", MG_PLOT_SCRIPT); }

bool draw_plot(const std::string& script, std::vector<std::string> args, const std::filesystem::path& png,
               const std::string& what) {
  if (script.empty() || ::access(script.c_str(), R_OK) != 0) {
    log::warn(what + " skipped: plot script '" + script + "' not found (set MINDGAP_PLOT_SCRIPT)");
    return false;
  }
  args.insert(args.begin(), {plot_python(), script, "--out", png.string()});
  std::string output;
  int rc = run_captured(args, &output);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  // The last line of a Python traceback says what went wrong ("ModuleNotFoundError: ...");
  // the frames above it are noise in a run's log.
  if (auto nl = output.rfind('\n'); nl != std::string::npos) output = output.substr(nl + 1);
  if (output.size() > 300) output = output.substr(0, 300) + "...";
  if (rc != 0) {
    log::warn(what + " not drawn (" + args[0] + " exited with " + std::to_string(rc) + "): " + output);
    return false;
  }
  log::info("wrote " + png.string());
  return true;
}

void plot_gap(const std::vector<std::filesystem::path>& run_dirs, const std::filesystem::path& png) {
  std::vector<std::string> dirs;
  for (const auto& d : run_dirs) dirs.push_back(d.string());
  draw_plot(plot_script(), dirs, png, "gap plot");
}

std::string sibling_plot_script(const std::string& name) {
  const std::string gap = plot_script();
  return gap.empty() ? "" : (std::filesystem::path(gap).parent_path() / name).string();
}

}  // namespace mg
