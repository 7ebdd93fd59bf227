#pragma once
// PackedLinears: add + x @ W^T for the decoding step's fixed weights, with W kept in the BLAS's
// packed layout between calls.
//
// A decoding step's products are small (B = 64 rows, K = 128): MKL's sgemm spent ~9% of a step
// copying W into its internal panel layout again at every call (mkl_blas_*_scopy_right*). MKL's
// packed-GEMM interface (cblas_sgemm_pack / cblas_sgemm_compute) does that copy once. The
// packed copy is keyed by the weight's storage, its version counter (an optimizer step bumps
// it, so trained weights are packed again) and the row count m (the interface packs for given
// m, n, k). Where libtorch has no MKL (the symbols are declared weak and resolve to null), or
// for anything but contiguous fp32 on the CPU, it is at::addmm.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include <torch/types.h>

namespace mg {

class PackedLinears {
 public:
  // add [n] or [m, n]; x [m, k]; w [n, k]. Returns add + x @ w^T, [m, n].
  torch::Tensor addmm(const torch::Tensor& add, const torch::Tensor& x, const torch::Tensor& w);
  // Whether the packed interface is there (false: every call is at::addmm).
  static bool available();

 private:
  struct Packed {
    torch::Tensor weight;  // held, so that its storage (the key) cannot be reused by another tensor
    int64_t version = -1;
    std::shared_ptr<float[]> data;  // shared with a call in progress, should the entry be dropped
  };
  // At most this many packed copies are kept (one per weight and row count); past it the cache
  // starts again, so that decoding at many batch sizes does not grow memory without bound.
  static constexpr size_t kMaxEntries = 64;
  std::shared_ptr<const float[]> packed(const torch::Tensor& w, int64_t m);
  std::mutex mutex_;  // the rows of a step may be split between threads
  std::map<std::tuple<const void*, int64_t, int64_t>, Packed> cache_;  // (storage, n*k, m)
};

}  // namespace mg
