#include "core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/run/atomic_file.h"
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
  AtomicFile file(path);
  file.write(content.data(), content.size());
  file.commit();
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
