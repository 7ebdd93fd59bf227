#include "core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace mg::fs {

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_input(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void fsync_dir(const stdfs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void write_file_atomic(const stdfs::path& path, const std::string& content) {
  stdfs::path tmp = path;
  tmp += ".tmp" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail_input(tmp.string() + ": cannot write (" + std::strerror(errno) + ")");
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      fail_input(tmp.string() + ": write failed (" + why + ")");
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  std::error_code ec;
  stdfs::rename(tmp, path, ec);
  if (ec) {
    ::unlink(tmp.c_str());
    fail_input(path.string() + ": cannot replace (" + ec.message() + ")");
  }
  fsync_dir(path.parent_path());
}

void append_line(const stdfs::path& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  if (!out) fail_input(path.string() + ": cannot append");
  out << line << '\n';
  out.flush();
}

bool exists(const stdfs::path& path) {
  std::error_code ec;
  return stdfs::exists(path, ec);
}

}  // namespace mg::fs
