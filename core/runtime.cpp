#include "core/runtime.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "core/errors.h"

namespace mg {

void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then go on as we are
}

namespace {
constexpr int kMmapThreshold = 32 << 20;  // glibc's largest allowed value on 64-bit
constexpr int kTrimThreshold = 1 << 30;
bool allocator_tuned = false;
}  // namespace

void tune_allocator() {
  const char* mode = std::getenv("MINDGAP_MALLOC");
  if (mode != nullptr && std::string(mode) == "system") return;
  // Either call may be refused (returns 0); the process then keeps glibc's defaults.
  allocator_tuned = ::mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && ::mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
}

std::string allocator_tuning() {
  return allocator_tuned ? "tuned (glibc mmap threshold 32 MiB, trim threshold 1 GiB)" : "system (glibc defaults)";
}

void set_threads(int threads) {
  at::set_num_threads(threads);
  static bool interop_set = false;  // may be set once per process
  if (!interop_set) {
    at::set_num_interop_threads(1);
    interop_set = true;
  }
}

torch::Device pick_device(const std::string& spec, int local_rank) {
  bool gpu = torch::cuda::is_available();
  if (spec == "cpu" || (spec == "auto" && !gpu)) return torch::Device(torch::kCPU);
  if (!gpu) fail_input("run.device: cuda was asked for but no GPU is visible");
  int count = static_cast<int>(torch::cuda::device_count());
  if (local_rank >= count)
    fail_input("local rank " + std::to_string(local_rank) + " has no GPU (" + std::to_string(count) +
               " visible)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
}

std::string pick_precision(const std::string& spec, const torch::Device& device) {
  if (spec != "auto") {
    if (spec == "bf16" && device.is_cpu()) fail_input("run.precision: bf16 is for CUDA; use fp32 on the CPU");
    return spec;
  }
  return device.is_cuda() ? "bf16" : "fp32";
}

}  // namespace mg
