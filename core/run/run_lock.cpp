#include "core/run/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/errors.h"

namespace mg {

namespace stdfs = std::filesystem;

namespace {

std::string holder_text(int fd) {
  // The holder writes its line right after it takes the lock: give it a moment to land.
  std::string text;
  for (int attempt = 0; attempt < 20 && text.empty(); ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    char buf[256];
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) text.assign(buf, static_cast<size_t>(n));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text.empty() ? "a process that has not yet said which" : text;
}

int open_lock_file(const stdfs::path& path, int flags) {
  int fd;
  do fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

RunLock::RunLock(const stdfs::path& dir) {
  std::error_code ec;
  if (stdfs::exists(dir, ec) && !stdfs::is_directory(dir, ec))
    fail_input(dir.string() + ": run.dir exists and is not a directory");
  stdfs::create_directories(dir, ec);
  if (ec) fail_input(dir.string() + ": cannot create run directory (" + ec.message() + ")");
  const auto path = dir / kRunLockFile;
  fd_ = open_lock_file(path, O_RDWR | O_CREAT);
  if (fd_ < 0) fail_input(path.string() + ": cannot open the run's lock file (" + std::strerror(errno) + ")");
  int rc;
  do rc = ::flock(fd_, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    std::string holder = err == EWOULDBLOCK ? holder_text(fd_) : "";
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      fail_input(dir.string() + ": another mindgap is writing this run (" + holder +
                 "); one writer per run directory: wait for it to end, stop it, or use another run.dir");
    fail_input(path.string() + ": cannot lock (" + std::strerror(err) + ")");
  }
  char host[256] = "unknown host";
  if (::gethostname(host, sizeof host) != 0) std::strcpy(host, "unknown host");
  host[sizeof host - 1] = '\0';
  const std::string line = "pid " + std::to_string(::getpid()) + " on " + host + "\n";
  // Best effort: the line only names the holder in another writer's refusal.
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, line.data(), line.size(), 0);
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

bool run_lock_held(const stdfs::path& dir) {
  int fd = open_lock_file(dir / kRunLockFile, O_RDONLY);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace mg
