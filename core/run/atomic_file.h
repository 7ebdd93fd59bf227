#pragma once
// A file written in pieces that appears under its name only when complete: the bytes go to
// "<path>.tmp<pid>" (the naming of fs::write_file_atomic), and commit() fsyncs, renames over
// the target and fsyncs the directory. Destroyed without commit(), it removes the temporary.
// For large outputs (weights, optimizer state) that should not be built up in one string.
#include <cstddef>
#include <filesystem>

namespace mg {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);  // BadInput if the temporary cannot be created
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // BadInput on a write error (disk full...)
  void commit();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path tmp_;
  int fd_ = -1;
};

// True for the temporary names that AtomicFile and fs::write_file_atomic use ("x.tmp1234"):
// such a file left in a directory is the remains of a killed write.
bool is_atomic_temporary(const std::filesystem::path& name);

}  // namespace mg
