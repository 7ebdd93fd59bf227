#pragma once
// A small GPT: token embedding (+ learned positions | rotary on q,k | no position signal),
// pre-LayerNorm blocks with causal attention and a 4x GELU MLP, a final LayerNorm, and an
// unembedding tied to the token embedding. GPT-2 initialisation.
//
// Precision: parameters are fp32. On a GPU the caller wraps the forward in bf16 autocast: the
// matmuls and attention run in bf16, LayerNorms and the residual stream stay fp32. The model
// also runs with all parameters cast to bf16 (model->to(torch::kBFloat16)); rotary angles are
// computed in fp32 either way.
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

#include "models/block.h"
#include "models/gpt_config.h"
#include "models/kv_cache.h"

namespace mg {

class PackedLinears;  // models/packed_linear.h

class GptImpl : public torch::nn::Module {
 public:
  explicit GptImpl(const GptConfig& c);

  // Final-LayerNorm hidden states [B,T,D] for tokens [B,T] (int64). Causal: position t sees
  // tokens 0..t only, so right padding is harmless for training.
  torch::Tensor hidden(const torch::Tensor& tokens);
  // hidden [...,D] -> logits [...,V] = hidden @ wte^T (tied), in hidden's dtype.
  torch::Tensor logits(const torch::Tensor& hidden);
  // logits(hidden(tokens)).
  torch::Tensor forward(const torch::Tensor& tokens);
  // The token embedding weight [V,D], which is also the unembedding.
  torch::Tensor unembedding();

  // The decoder's entry: tokens [B,T] at per-row `positions` [B,T] (int64), attending as `mask`
  // allows (bool [B,1,T,cache length + T], true = may attend; undefined = causal), reading and
  // extending `cache` (nullptr: none). Returns hidden states [B,T,D].
  torch::Tensor hidden_at(const torch::Tensor& tokens, const torch::Tensor& positions,
                          const torch::Tensor& mask, KvCache* cache);

  // One decoding step on the CPU in fp32, the attention fused (kernels/decode_attention.h):
  // tokens [B] int64 at `positions` [B]; row b attends to the cache slots [key_start[b], the new
  // slot]; appends to `cache`. The function of hidden_at with T = 1 and the decoder's pad mask,
  // in about a third of the operators (models/gpt_step_cpu.cpp). Returns final-LayerNorm
  // hidden states [B,D].
  torch::Tensor hidden_step_cpu(const torch::Tensor& tokens, const torch::Tensor& positions,
                                const torch::Tensor& key_start, KvCache& cache);

  // The same step with static shapes and no read of device values on the host, so that a GPU
  // can capture it in a CUDA graph (models/decode_graph.h): tokens, positions, key_start [B]
  // and slot [1], int64 on the model's device. It writes k and v into `slot` of `cache` by index
  // and attends over the whole capacity with the slots outside [key_start[b], slot] masked (the
  // caller zeroes the slots not yet written, so that a masked slot is never NaN); it does not
  // advance the cache. Returns final-LayerNorm hidden states [B,D] (models/gpt_step_static.cpp).
  torch::Tensor hidden_step_static(const torch::Tensor& tokens, const torch::Tensor& positions,
                                   const torch::Tensor& key_start, const torch::Tensor& slot, KvCache& cache);

  const GptConfig& config() const { return cfg_; }
  int64_t num_parameters() const;  // the tied embedding counted once

 private:
  torch::Tensor run(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& mask,
                    KvCache* cache);
  void init_weights();

  GptConfig cfg_;
  torch::nn::Embedding wte{nullptr};
  torch::nn::Embedding wpe{nullptr};  // pos == learned only
  torch::nn::ModuleList block_list{nullptr};
  std::vector<Block> blocks_;  // the same modules, typed
  torch::nn::LayerNorm ln_f{nullptr};
  // hidden_step_cpu's weights in the BLAS's packed layout, made on first use and again after an
  // update (keyed by the weight's version).
  std::shared_ptr<PackedLinears> packed_;
};
TORCH_MODULE(Gpt);

}  // namespace mg
