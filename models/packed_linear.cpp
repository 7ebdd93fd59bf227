#include "models/packed_linear.h"

#include <ATen/ATen.h>

// MKL's CBLAS packed-GEMM entry points, exported by the x86 PyPI libtorch (MKL linked in, LP64:
// 32-bit integers). Declared here, weak, because the project has no MKL headers; the enum values
// are CBLAS's.
extern "C" {
size_t cblas_sgemm_pack_get_size(int identifier, int m, int n, int k) __attribute__((weak));
void cblas_sgemm_pack(int layout, int identifier, int trans, int m, int n, int k, float alpha, const float* src,
                      int ld, float* dest) __attribute__((weak));
void cblas_sgemm_compute(int layout, int transa, int transb, int m, int n, int k, const float* a, int lda,
                         const float* b, int ldb, float beta, float* c, int ldc) __attribute__((weak));
}

namespace mg {
namespace {
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112, kPacked = 151, kBMatrix = 162;
}  // namespace

bool PackedLinears::available() {
  return cblas_sgemm_pack_get_size != nullptr && cblas_sgemm_pack != nullptr && cblas_sgemm_compute != nullptr;
}

std::shared_ptr<const float[]> PackedLinears::packed(const torch::Tensor& w, int64_t m) {
  const int64_t n = w.size(0), k = w.size(1);
  std::lock_guard<std::mutex> lock(mutex_);
  const std::tuple<const void*, int64_t, int64_t> key{w.data_ptr(), n * k, m};
  if (cache_.size() >= kMaxEntries && cache_.find(key) == cache_.end()) cache_.clear();
  Packed& p = cache_[key];
  if (p.version != static_cast<int64_t>(w._version()) || !p.data) {
    const size_t bytes = cblas_sgemm_pack_get_size(kBMatrix, static_cast<int>(m), static_cast<int>(n),
                                                   static_cast<int>(k));
    p.data.reset(new float[(bytes + sizeof(float) - 1) / sizeof(float)]);  // a fresh buffer: a caller may hold the old
    // op(B) = w^T, k x n, from w stored [n, k] row-major (leading dimension k).
    cblas_sgemm_pack(kRowMajor, kBMatrix, kTrans, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), 1.0f,
                     w.data_ptr<float>(), static_cast<int>(k), p.data.get());
    p.version = static_cast<int64_t>(w._version());
    p.weight = w;
  }
  return p.data;
}

torch::Tensor PackedLinears::addmm(const torch::Tensor& add, const torch::Tensor& x, const torch::Tensor& w) {
  const bool packable = available() && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
                        w.scalar_type() == torch::kFloat32 && x.dim() == 2 && w.dim() == 2 && x.is_contiguous() &&
                        w.is_contiguous() && !w.is_inference() && x.size(1) == w.size(1) && x.size(0) > 0 &&
                        x.size(0) < (int64_t{1} << 31) && w.numel() < (int64_t{1} << 31);
  if (!packable) return at::addmm(add, x, w.t());
  const int64_t m = x.size(0), n = w.size(0), k = w.size(1);
  const auto b = packed(w, m);
  auto out = add.expand({m, n}).clone(at::MemoryFormat::Contiguous);  // C, with beta = 1: add + x @ w^T
  cblas_sgemm_compute(kRowMajor, kNoTrans, kPacked, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                      x.data_ptr<float>(), static_cast<int>(k), b.get(), static_cast<int>(n), 1.0f, out.data_ptr<float>(),
                      static_cast<int>(n));
  return out;
}

}  // namespace mg
