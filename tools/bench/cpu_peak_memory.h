#pragma once
// Measures the peak of live tensor bytes on the CPU while an object of this class exists: it
// installs a counting allocator in front of libtorch's CPU allocator and puts the previous one
// back when destroyed. Counts tensor storage only (not the BLAS library's own workspace).
// It changes process-wide state, so it is for tests and benchmarks, one at a time, single
// threaded callers.
#include <cstdint>
#include <memory>

namespace mg::bench {

class CpuPeakMemory {
 public:
  CpuPeakMemory();
  ~CpuPeakMemory();
  CpuPeakMemory(const CpuPeakMemory&) = delete;
  CpuPeakMemory& operator=(const CpuPeakMemory&) = delete;

  // Bytes allocated since construction (or the last reset) and still alive.
  int64_t current_bytes() const;
  // The most bytes alive at once since construction or the last reset (which restarts the
  // peak from the bytes alive now).
  int64_t peak_bytes() const;
  void reset();

  struct Counters;

 private:
  std::shared_ptr<Counters> counters_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg::bench
