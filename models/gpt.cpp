#include "models/gpt.h"

#include <cmath>

#include <torch/torch.h>

#include "core/errors.h"
#include "models/packed_linear.h"
#include "models/rope.h"

namespace mg {

GptImpl::GptImpl(const GptConfig& c) : cfg_(c), packed_(std::make_shared<PackedLinears>()) {
  cfg_.validate();
  wte = register_module("wte", torch::nn::Embedding(cfg_.vocab, cfg_.d_model));
  if (cfg_.pos == "learned") wpe = register_module("wpe", torch::nn::Embedding(cfg_.max_seq, cfg_.d_model));
  block_list = register_module("blocks", torch::nn::ModuleList());
  for (int64_t l = 0; l < cfg_.n_layer; ++l) {
    blocks_.push_back(Block(cfg_, l));
    block_list->push_back(blocks_.back());
  }
  ln_f = register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg_.d_model})));
  init_weights();
}

// GPT-2: every matrix and embedding ~ N(0, 0.02), biases 0, LayerNorms (1, 0); the two
// projections that write into the residual stream get std 0.02/sqrt(2L), so the stream's
// variance does not grow with depth.
void GptImpl::init_weights() {
  torch::NoGradGuard no_grad;
  const double std = 0.02, resid_std = 0.02 / std::sqrt(2.0 * cfg_.n_layer);
  wte->weight.normal_(0.0, std);
  if (wpe) wpe->weight.normal_(0.0, std);
  for (auto& b : blocks_) {
    for (auto* lin : {b->attn->qkv.get(), b->fc.get()}) lin->weight.normal_(0.0, std);
    for (auto* lin : {b->attn->proj.get(), b->proj.get()}) lin->weight.normal_(0.0, resid_std);
    for (auto* lin : {b->attn->qkv.get(), b->attn->proj.get(), b->fc.get(), b->proj.get()}) lin->bias.zero_();
  }
  // LayerNorm modules already start at weight 1, bias 0.
}

torch::Tensor GptImpl::hidden(const torch::Tensor& tokens) { return run(tokens, {}, {}, nullptr); }

torch::Tensor GptImpl::hidden_at(const torch::Tensor& tokens, const torch::Tensor& positions,
                                 const torch::Tensor& mask, KvCache* cache) {
  check(positions.defined() && positions.sizes() == tokens.sizes(), "hidden_at: positions must match tokens");
  return run(tokens, positions, mask, cache);
}

torch::Tensor GptImpl::run(const torch::Tensor& tokens, const torch::Tensor& positions,
                           const torch::Tensor& mask, KvCache* cache) {
  if (tokens.dim() != 2 || tokens.scalar_type() != torch::kInt64)
    fail_input("model: tokens must be an int64 tensor [batch, time]");
  const int64_t T = tokens.size(1);
  if (T < 1) fail_input("model: empty sequence");
  auto x = wte(tokens);
  AttentionInputs in;
  in.mask = mask;
  in.cache = cache;
  if (cfg_.pos == "learned") {
    if (!positions.defined()) {
      if (T > cfg_.max_seq)
        fail_input("model: sequence of " + std::to_string(T) + " tokens exceeds max_seq " +
                   std::to_string(cfg_.max_seq) + " of learned positions");
      x = x + wpe->weight.narrow(0, 0, T);  // broadcast over the batch, no gather
    } else {
      x = x + wpe(positions);  // the caller (decoder) bounds positions by max_seq
    }
  } else if (cfg_.pos == "rope") {
    if (!positions.defined()) {
      auto pos = torch::arange(T, torch::TensorOptions().dtype(torch::kInt64).device(tokens.device()));
      std::tie(in.rope_cos, in.rope_sin) = rope_tables(pos, cfg_.head_dim());  // [T, hd/2]
    } else {
      auto [c, s] = rope_tables(positions, cfg_.head_dim());  // [B, T, hd/2]
      in.rope_cos = c.unsqueeze(1);  // [B, 1, T, hd/2]: one table for every head
      in.rope_sin = s.unsqueeze(1);
    }
  }
  if (cfg_.dropout > 0 && is_training()) x = torch::dropout(x, cfg_.dropout, true);
  for (auto& b : blocks_) x = b->forward(x, in);
  if (cache != nullptr) cache->advance(T);
  return ln_f(x);
}

torch::Tensor GptImpl::logits(const torch::Tensor& hidden) { return torch::linear(hidden, wte->weight); }

torch::Tensor GptImpl::forward(const torch::Tensor& tokens) { return logits(hidden(tokens)); }

torch::Tensor GptImpl::unembedding() { return wte->weight; }

int64_t GptImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace mg
