#include "core/run/stop_signal.h"

#include <unistd.h>

#include <csignal>
#include <cstring>

#include "core/errors.h"

namespace mg {
namespace {

volatile std::sig_atomic_t g_signal = 0;

void on_stop_signal(int sig) {
  g_signal = sig;
  // write(2) is async-signal-safe; the Error at the next safe point says the rest.
  const char* msg = sig == SIGINT ? "\nmindgap: SIGINT: stopping at the next safe point (again to stop at once)\n"
                                  : "\nmindgap: SIGTERM: stopping at the next safe point (again to stop at once)\n";
  (void)!::write(STDERR_FILENO, msg, std::strlen(msg));
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // SA_RESTART: a read or write the signal lands in carries on instead of failing with EINTR.
  // SA_RESETHAND: the second signal gets the default action (end the process).
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_signal_received() { return static_cast<int>(g_signal); }

void stop_at(int signal, const std::string& where) {
  const bool sigint = signal == SIGINT;
  throw Error(sigint ? ErrorKind::Interrupted : ErrorKind::Terminated,
              std::string(sigint ? "SIGINT" : "SIGTERM") + ": stopped " + where +
                  "; nothing is half-written, and the same command (`mindgap run <recipe> [key=value ...]`) resumes");
}

void stop_point(const std::string& where) {
  if (int sig = stop_signal_received()) stop_at(sig, where);
}

void stop_point(Communicator& comm, const std::string& where) {
  const int mine = stop_signal_received();
  if (comm.world_size() == 1) {
    if (mine) stop_at(mine, where);
    return;
  }
  bool any = false;
  for (const auto& flag : comm.all_gather_bytes(mine ? "1" : "0")) any = any || flag == "1";
  // A rank that got no signal itself stops as if terminated: the job is ending.
  if (any) stop_at(mine ? mine : SIGTERM, where);
}

}  // namespace mg
