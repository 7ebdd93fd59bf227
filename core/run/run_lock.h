#pragma once
// One writer per run directory. The process that writes a run (run, pretrain, improve; rank 0
// of a multi-rank job) holds an exclusive flock(2) on <run.dir>/LOCK for its whole life; a
// second writer is refused at once, told the holder's pid and host. The kernel drops the lock
// when the holder's last descriptor closes, so a process killed by any signal (kill -9
// included) leaves no stale lock. Readers (eval, gap, sample, export, ...) never take it:
// every file a writer publishes is replaced atomically, so they need no lock to read.
#include <filesystem>
#include <string>

namespace mg {

inline constexpr const char* kRunLockFile = "LOCK";

class RunLock {
 public:
  // Creates `dir` when missing, opens <dir>/LOCK and takes the lock without waiting.
  // BadInput when another process holds it (naming its pid and host) or the file cannot be
  // opened.
  explicit RunLock(const std::filesystem::path& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// Whether another process holds the lock of `dir` now (probes without waiting; false when
// there is no lock file). For tests and tools/reliability.sh.
bool run_lock_held(const std::filesystem::path& dir);

}  // namespace mg
