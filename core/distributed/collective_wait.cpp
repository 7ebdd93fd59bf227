#include "core/distributed/collective_wait.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/errors.h"

namespace mg::dist {

Clock::time_point deadline_after(double timeout_s) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
}

bool poll_until(const std::function<bool()>& done, Clock::time_point deadline) {
  // Ranks reach a collective a little apart, and a sleep costs at least the kernel's timer
  // slack (~50 us): polling without pause (yielding the core to anyone who wants it) for the
  // first 200 us keeps small collectives fast (measured on 2 CPU ranks: 4 KB in ~13 us, against
  // ~50 us with 50 us of polling), and beyond it the pause grows so that a long wait costs
  // almost no CPU.
  constexpr auto kSpin = std::chrono::microseconds(200);
  constexpr auto kFirstPause = std::chrono::microseconds(20);
  constexpr auto kLongestPause = std::chrono::microseconds(1000);
  const auto start = Clock::now();
  auto pause = kFirstPause;
  while (true) {
    if (done()) return true;
    auto now = Clock::now();
    if (now >= deadline) return done();  // one last look: it may have completed meanwhile
    if (now - start < kSpin) {
      std::this_thread::yield();
      continue;
    }
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, kLongestPause);
  }
}

void fail_timeout(int rank, const std::string& what, double timeout_s) {
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%g", timeout_s);
  fail_internal("rank " + std::to_string(rank) + ": " + what + " timed out after " + seconds +
                " s waiting for the other ranks (a rank is stuck or died); raise run.dist_timeout_s if a "
                "step is really this slow");
}

}  // namespace mg::dist
