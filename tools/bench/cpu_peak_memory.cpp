#include "tools/bench/cpu_peak_memory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <atomic>
#include <cstring>

#include "core/errors.h"

namespace mg::bench {

struct CpuPeakMemory::Counters {
  std::atomic<int64_t> current{0};
  std::atomic<int64_t> peak{0};
  void add(int64_t n) {
    const int64_t now = current.fetch_add(n) + n;
    int64_t p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
  }
};

namespace {

// What each counted allocation carries: the wrapped allocation, its size and the counters
// (shared, so that a tensor freed after the measurement ended is still safe to release).
struct Record {
  c10::DataPtr inner;
  int64_t bytes;
  std::shared_ptr<CpuPeakMemory::Counters> counters;
};

// The data handed out starts kHeader bytes into the wrapped block; the header holds the
// Record. Data and context are then the same pointer, which libtorch's raw_allocate (used
// for some kernels' workspaces) requires, and the deleter needs no table.
constexpr size_t kHeader = 64;  // keeps the allocator's 64-byte alignment

void release(void* data) {
  Record* r = nullptr;
  std::memcpy(&r, static_cast<char*>(data) - kHeader, sizeof(r));
  r->counters->current.fetch_sub(r->bytes);
  delete r;  // frees the wrapped block through its own deleter
}

class CountingAllocator final : public c10::Allocator {
 public:
  CountingAllocator(c10::Allocator* inner, std::shared_ptr<CpuPeakMemory::Counters> counters)
      : inner_(inner), counters_(std::move(counters)) {}

  c10::DataPtr allocate(size_t n) override {
    c10::DataPtr p = inner_->allocate(n + kHeader);
    char* base = static_cast<char*>(p.get());
    const c10::Device device = p.device();
    counters_->add(static_cast<int64_t>(n));
    auto* r = new Record{std::move(p), static_cast<int64_t>(n), counters_};
    std::memcpy(base, &r, sizeof(r));
    void* data = base + kHeader;
    return c10::DataPtr(data, data, &release, device);
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }

 private:
  c10::Allocator* inner_;
  std::shared_ptr<CpuPeakMemory::Counters> counters_;
};

// Above the priority of libtorch's own registration, so the swap takes effect both ways.
constexpr uint8_t kPriority = 200;

}  // namespace

struct CpuPeakMemory::Impl {
  c10::Allocator* previous = nullptr;
  std::unique_ptr<CountingAllocator> counting;
};

CpuPeakMemory::CpuPeakMemory() : counters_(std::make_shared<Counters>()), impl_(std::make_unique<Impl>()) {
  impl_->previous = c10::GetCPUAllocator();
  impl_->counting = std::make_unique<CountingAllocator>(impl_->previous, counters_);
  c10::SetCPUAllocator(impl_->counting.get(), kPriority);
  check(c10::GetCPUAllocator() == impl_->counting.get(), "CpuPeakMemory: the counting allocator was not installed");
}

// The counting allocator object must outlive the tensors it handed out only through their
// Records (which do not point at it), so it can be destroyed here.
CpuPeakMemory::~CpuPeakMemory() { c10::SetCPUAllocator(impl_->previous, kPriority); }

int64_t CpuPeakMemory::current_bytes() const { return counters_->current.load(); }
int64_t CpuPeakMemory::peak_bytes() const { return counters_->peak.load(); }
void CpuPeakMemory::reset() { counters_->peak.store(counters_->current.load()); }

}  // namespace mg::bench
