#pragma once
// KV-cached batched decoding of prompts of different lengths.
//
// Layout: LEFT PADDING with per-row positions. The B prompts are right-aligned in P = (longest
// prompt) slots; row i starts with pad_i = P - len_i pad slots. Every row then appends its
// tokens at the same slot, so a step writes one cache column for the whole batch in place.
// Row i's token in slot s gets position s - pad_i (what it would have alone), and a mask keeps
// every real token from attending to pad slots. A pad slot attends to itself only (an
// all-masked row would give NaN, which would leak through 0 * NaN into later layers).
// When all prompts have the same length no mask is built and the fused causal kernel runs.
#include <functional>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "models/gpt.h"
#include "models/kv_cache.h"

namespace mg {

class DecodeGraph;  // models/decode_graph.h

class Decoder {
 public:
  // `max_len`: cache slots = the longest prompt plus the tokens to generate.
  Decoder(Gpt model, int64_t batch, int64_t max_len, torch::Device device);
  ~Decoder();

  // Starts over with `batch` prompts (token ids, each non-empty, possibly different lengths);
  // returns next-token logits [B,V] fp32. Runs under NoGradGuard and in eval mode (the model's
  // training flag is restored afterwards).
  torch::Tensor prefill(const std::vector<std::vector<int>>& prompts);
  // Appends one token per row ([B] int64, any device) and returns next-token logits [B,V] fp32.
  // An fp32 model on the CPU steps through the fused step (a third of the operators); a GPU or
  // bf16 model, or MINDGAP_DECODE=modules, through the modules; MINDGAP_DECODE=graph through
  // the static step, captured in a CUDA graph on a GPU (models/decode_graph.h).
  torch::Tensor step(const torch::Tensor& tokens);

  int64_t length() const { return cache_.length(); }  // slots used so far (pads included)
  int64_t batch() const { return batch_; }
  int64_t max_len() const { return cache_.capacity(); }
  // Whether step() takes the fused CPU step (GptImpl::hidden_step_cpu) or the modules.
  bool fused_steps() const { return fused_; }
  // Whether step() takes the static step (MINDGAP_DECODE=graph), and whether a graph was captured.
  bool graph_steps() const { return graph_ != nullptr; }
  bool graph_captured() const;

 private:
  torch::Tensor next_logits(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& mask);
  // Runs `hidden` in inference and eval mode (the training flag restored) and unembeds its last slot.
  torch::Tensor last_logits(const std::function<torch::Tensor()>& hidden);

  Gpt model_;
  int64_t batch_;
  torch::Device device_;
  KvCache cache_;
  torch::Tensor pad_;   // [B] int64 on device: pad slots in front of row i
  torch::Tensor step_mask_;  // bool [B,1,1,capacity]: key slot is a real token of the row (when any_pad_)
  bool any_pad_ = false;
  int64_t min_pad_ = 0;  // the longest row's pad count (0): bounds learned positions
  // Steps through GptImpl::hidden_step_cpu (fp32 on the CPU) rather than the modules; off with
  // MINDGAP_DECODE=modules (benchmarks compare the two).
  bool fused_ = false;
  bool graph_mode_ = false;             // MINDGAP_DECODE=graph
  std::unique_ptr<DecodeGraph> graph_;  // made by each prefill in graph mode
};

}  // namespace mg
