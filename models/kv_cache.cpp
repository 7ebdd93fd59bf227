#include "models/kv_cache.h"

#include <torch/torch.h>

#include "core/errors.h"

namespace mg {

KvCache::KvCache(int64_t n_layer, int64_t batch, int64_t n_head, int64_t capacity, int64_t head_dim,
                 torch::Device device)
    : n_layer_(n_layer), batch_(batch), n_head_(n_head), capacity_(capacity), head_dim_(head_dim),
      device_(device), k_(n_layer), v_(n_layer) {
  check(n_layer > 0 && batch > 0 && n_head > 0 && capacity > 0 && head_dim > 0, "KvCache: bad shape");
}

std::pair<torch::Tensor, torch::Tensor> KvCache::append(int64_t layer, const torch::Tensor& k,
                                                        const torch::Tensor& v) {
  check(k.dim() == 4 && k.size(0) == batch_ && k.size(1) == n_head_ && k.size(3) == head_dim_ &&
            k.sizes() == v.sizes(),
        "KvCache::append: k, v must be [batch, n_head, T, head_dim]");
  const int64_t t = k.size(2);
  check(length_ + t <= capacity_, "KvCache::append: capacity exceeded");
  auto [kc, vc] = storage(layer, k.scalar_type());
  kc.narrow(2, length_, t).copy_(k);
  vc.narrow(2, length_, t).copy_(v);
  return {kc.narrow(2, 0, length_ + t), vc.narrow(2, 0, length_ + t)};
}

std::pair<torch::Tensor, torch::Tensor> KvCache::storage(int64_t layer, torch::ScalarType dtype) {
  check(layer >= 0 && layer < n_layer_, "KvCache::storage: layer out of range");
  auto& kc = k_[layer];
  auto& vc = v_[layer];
  if (!kc.defined() || kc.scalar_type() != dtype) {
    check(length_ == 0, "KvCache: dtype changed in the middle of a sequence");
    auto opts = torch::TensorOptions().dtype(dtype).device(device_);
    kc = torch::empty({batch_, n_head_, capacity_, head_dim_}, opts);
    vc = torch::empty({batch_, n_head_, capacity_, head_dim_}, opts);
  }
  return {kc, vc};
}

void KvCache::advance(int64_t t) {
  check(t >= 0 && length_ + t <= capacity_, "KvCache::advance: capacity exceeded");
  length_ += t;
}

}  // namespace mg
