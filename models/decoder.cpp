#include "models/decoder.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "models/decode_graph.h"

namespace mg {

Decoder::Decoder(Gpt model, int64_t batch, int64_t max_len, torch::Device device)
    : model_(std::move(model)), batch_(batch), device_(device),
      cache_(model_->config().n_layer, batch, model_->config().n_head, max_len, model_->config().head_dim(),
             device) {
  if (batch < 1) fail_input("decoder: batch must be positive");
  if (max_len < 1) fail_input("decoder: max_len must be positive");
  const char* env = std::getenv("MINDGAP_DECODE");
  const std::string path = env != nullptr ? env : "";
  graph_mode_ = path == "graph";
  fused_ = !graph_mode_ && device.is_cpu() && model_->unembedding().scalar_type() == torch::kFloat32 &&
           path != "modules";
}

Decoder::~Decoder() = default;

bool Decoder::graph_captured() const { return graph_ != nullptr && graph_->captured(); }

torch::Tensor Decoder::next_logits(const torch::Tensor& tokens, const torch::Tensor& positions,
                                   const torch::Tensor& mask) {
  return last_logits([&] { return model_->hidden_at(tokens, positions, mask, &cache_); });
}

torch::Tensor Decoder::last_logits(const std::function<torch::Tensor()>& hidden) {
  // Inference mode, not just no-grad: no version counters or view tracking on the many small
  // tensors of a decoding step (the cache it allocates is only ever touched in here).
  c10::InferenceMode inference;
  const bool was_training = model_->is_training();
  model_->eval();
  torch::Tensor h;
  try {
    h = hidden();
  } catch (...) {
    model_->train(was_training);
    throw;
  }
  model_->train(was_training);
  // Only the last slot's logits are needed: unembed [B,D], not [B,T,D].
  auto last = h.dim() == 3 ? h.select(1, h.size(1) - 1) : h;
  return model_->logits(last).to(torch::kFloat32);
}

torch::Tensor Decoder::prefill(const std::vector<std::vector<int>>& prompts) {
  if (static_cast<int64_t>(prompts.size()) != batch_)
    fail_input("decoder: " + std::to_string(prompts.size()) + " prompts for a batch of " + std::to_string(batch_));
  int64_t longest = 0;
  for (const auto& p : prompts) {
    if (p.empty()) fail_input("decoder: empty prompt");
    longest = std::max<int64_t>(longest, static_cast<int64_t>(p.size()));
  }
  if (longest > cache_.capacity())
    fail_input("decoder: prompt of " + std::to_string(longest) + " tokens exceeds max_len " +
               std::to_string(cache_.capacity()));
  const auto& cfg = model_->config();
  if (cfg.pos == "learned" && longest > cfg.max_seq)
    fail_input("decoder: prompt of " + std::to_string(longest) + " tokens exceeds max_seq " + std::to_string(cfg.max_seq));

  // Built on the CPU, moved once.
  auto tok = torch::zeros({batch_, longest}, torch::kInt64);
  auto pad = torch::empty({batch_}, torch::kInt64);
  auto ta = tok.accessor<int64_t, 2>();
  auto pa = pad.accessor<int64_t, 1>();
  any_pad_ = false;
  for (int64_t i = 0; i < batch_; ++i) {
    const auto& p = prompts[i];
    const int64_t n = static_cast<int64_t>(p.size()), off = longest - n;
    pa[i] = off;
    any_pad_ = any_pad_ || off > 0;
    for (int64_t j = 0; j < n; ++j) {
      if (p[j] < 0 || p[j] >= cfg.vocab)
        fail_input("decoder: token id " + std::to_string(p[j]) + " outside the vocabulary of " + std::to_string(cfg.vocab));
      ta[i][off + j] = p[j];
    }
  }
  min_pad_ = 0;  // the longest prompt has no padding
  cache_.reset();
  // A fresh graph for each prefill: its zeroed slots and captured buffers belong to one sequence.
  graph_.reset();
  if (graph_mode_) graph_ = std::make_unique<DecodeGraph>(model_, cache_);
  pad_ = pad.to(device_);
  auto slots = torch::arange(longest, torch::TensorOptions().dtype(torch::kInt64)).unsqueeze(0);  // [1,P]
  auto positions = (slots - pad.unsqueeze(1)).clamp_min(0);                                       // [B,P]
  torch::Tensor mask;
  if (any_pad_) {
    auto q = slots.unsqueeze(2);                                  // [1,P,1] query slot
    auto k = slots.unsqueeze(1);                                  // [1,1,P] key slot
    auto real_key = k >= pad.view({batch_, 1, 1});                // [B,1,P]
    mask = ((real_key & (k <= q)) | (k == q)).unsqueeze(1);       // [B,1,P,P]
    mask = mask.to(device_);
    // Every later step's mask is a prefix of this one: real keys of each row, over all slots.
    auto all_slots = torch::arange(cache_.capacity(), torch::TensorOptions().dtype(torch::kInt64)).unsqueeze(0);
    step_mask_ = (all_slots >= pad.unsqueeze(1)).view({batch_, 1, 1, cache_.capacity()}).to(device_);
  }
  return next_logits(tok.to(device_), positions.to(device_), mask);
}

torch::Tensor Decoder::step(const torch::Tensor& tokens) {
  check(pad_.defined(), "decoder: step before prefill");
  if (tokens.dim() != 1 || tokens.size(0) != batch_ || tokens.scalar_type() != torch::kInt64)
    fail_input("decoder: step needs [" + std::to_string(batch_) + "] int64 tokens");
  const int64_t slot = cache_.length();
  if (slot >= cache_.capacity())
    fail_input("decoder: max_len " + std::to_string(cache_.capacity()) + " reached");
  const auto& cfg = model_->config();
  if (cfg.pos == "learned" && slot - min_pad_ >= cfg.max_seq)
    fail_input("decoder: position " + std::to_string(slot - min_pad_) + " is past max_seq " + std::to_string(cfg.max_seq) +
               " of learned positions");
  // A graph captured under autocast would replay casts of weights that autocast frees when its
  // scope ends; decoding does not run under it, but if it ever does, the modules take the step.
  if (graph_ && !(device_.is_cuda() && at::autocast::is_autocast_enabled(at::kCUDA))) {
    return last_logits([&] { return graph_->step(tokens.to(device_), slot - pad_, pad_, slot); });
  }
  if (fused_) {
    // The new token's keys are [pad_i, slot] of row i: the step mask, as a start per row.
    return last_logits([&] { return model_->hidden_step_cpu(tokens.to(device_), slot - pad_, pad_, cache_); });
  }
  auto positions = (slot - pad_).unsqueeze(1);  // [B,1]
  torch::Tensor mask;
  if (any_pad_) mask = step_mask_.narrow(3, 0, slot + 1);
  return next_logits(tokens.to(device_).view({batch_, 1}), positions, mask);
}

}  // namespace mg
