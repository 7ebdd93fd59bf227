#pragma once
// Waiting for a collective with a deadline (internal to core/distributed). MPI and NCCL wait
// forever for a peer that is alive but stuck; the backends instead poll for completion and
// give up when the deadline passes, so that run_or_abort can end the job.
#include <chrono>
#include <functional>
#include <string>

namespace mg::dist {

using Clock = std::chrono::steady_clock;

// When a collective started now must have completed.
Clock::time_point deadline_after(double timeout_s);

// Polls `done` until it returns true (then true) or `deadline` passes (then false). Between
// polls it spins for a few microseconds, then sleeps with a growing pause (up to 1 ms), so that
// a rank waiting for a slow peer leaves its core to the others.
bool poll_until(const std::function<bool()>& done, Clock::time_point deadline);

// Throws the mg::Error of a collective that timed out: names the rank, the collective, the
// timeout and the recipe key that raises it.
[[noreturn]] void fail_timeout(int rank, const std::string& what, double timeout_s);

}  // namespace mg::dist
