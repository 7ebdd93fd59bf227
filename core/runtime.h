#pragma once
// Process-wide runtime settings decided once at start-up: CPU threads and the device.
#include <string>

#include <torch/types.h>

namespace mg {

// OpenMP reads OMP_WAIT_POLICY when its library loads, before main. Spinning worker threads
// made a step 6x slower when another process shared a 2-core machine, so main() calls this
// first: when the variable is unset it sets PASSIVE and re-executes the program.
void ensure_passive_openmp(char** argv);

// glibc hands every block above its mmap threshold (128 KiB, raised only as such blocks are
// freed) back to the kernel on free, and trims the heap top above 128 KiB, so each training
// step's activations were fresh pages: thousands of page faults per step, a tenth of the step's
// time. This keeps freed memory in the heap for reuse (mmap only above 32 MiB, no trimming
// below 1 GiB). Off when MINDGAP_MALLOC=system (for the benchmark's before/after).
void tune_allocator();
// What tune_allocator did, for benchmark headers: "tuned (...)" or "system".
std::string allocator_tuning();

// Sets torch's intra- and inter-op thread counts (explicitly: never the library default).
void set_threads(int threads);

// "auto" -> CUDA when a GPU is visible, else CPU. "cuda" without a GPU is bad input.
torch::Device pick_device(const std::string& spec, int local_rank = 0);

// "auto" -> bf16 on CUDA, fp32 on CPU.
std::string pick_precision(const std::string& spec, const torch::Device& device);

}  // namespace mg
