#include "core/run/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "core/fs.h"

namespace mg {

namespace stdfs = std::filesystem;

AtomicFile::AtomicFile(stdfs::path path) : path_(std::move(path)) {
  tmp_ = path_;
  tmp_ += ".tmp" + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_input(tmp_.string() + ": cannot write (" + std::strerror(errno) + ")");
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t n) {
  check(fd_ >= 0, "AtomicFile::write after commit");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_input(tmp_.string() + ": write failed (" + std::strerror(errno) + ")");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  check(fd_ >= 0, "AtomicFile::commit twice");
  if (::fsync(fd_) != 0) fail_input(tmp_.string() + ": fsync failed (" + std::strerror(errno) + ")");
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  stdfs::rename(tmp_, path_, ec);
  if (ec) {
    ::unlink(tmp_.c_str());
    fail_input(path_.string() + ": cannot replace (" + ec.message() + ")");
  }
  fs::fsync_dir(path_.parent_path());
}

bool is_atomic_temporary(const stdfs::path& name) {
  std::string s = name.filename().string();
  auto pos = s.rfind(".tmp");
  if (pos == std::string::npos || pos == 0 || pos + 4 == s.size()) return false;
  for (size_t i = pos + 4; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

}  // namespace mg
