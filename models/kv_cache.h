#pragma once
// Keys and values of every layer for a batch of sequences being decoded, preallocated to
// `capacity` slots so that a decoding step writes one slot in place instead of concatenating.
// All rows share the slot count (the decoder left-pads prompts; see models/decoder.h).
#include <utility>
#include <vector>

#include <torch/types.h>

namespace mg {

class KvCache {
 public:
  KvCache(int64_t n_layer, int64_t batch, int64_t n_head, int64_t capacity, int64_t head_dim,
          torch::Device device);

  // Writes k, v [B,H,T,head_dim] of `layer` into slots [length(), length()+T) and returns the
  // keys and values of slots [0, length()+T). The storage takes the dtype of the first k
  // written (fp32, or bf16 under autocast), so nothing is converted twice.
  std::pair<torch::Tensor, torch::Tensor> append(int64_t layer, const torch::Tensor& k,
                                                 const torch::Tensor& v);
  // The whole storage of `layer`, k and v [B,H,capacity,head_dim] in `dtype` (allocated on first
  // use), for a kernel that writes its slot itself (kernels/decode_attention.h).
  std::pair<torch::Tensor, torch::Tensor> storage(int64_t layer, torch::ScalarType dtype);
  // Called once per forward, after every layer appended its T slots.
  void advance(int64_t t);
  // Forgets the contents (the storage is kept).
  void reset() { length_ = 0; }

  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }
  int64_t batch() const { return batch_; }

 private:
  int64_t n_layer_, batch_, n_head_, capacity_, head_dim_;
  torch::Device device_;
  int64_t length_ = 0;
  std::vector<torch::Tensor> k_, v_;  // per layer [B,H,capacity,head_dim], allocated on first use
};

}  // namespace mg
