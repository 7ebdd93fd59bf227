#pragma once
// DecodeGraph: decoding steps through GptImpl::hidden_step_static, captured once in a CUDA graph
// on a GPU and replayed at every later step, so that a step costs one graph launch instead of
// ~100 kernel launches from the host. On the CPU it runs the static step directly (the same
// function, testable without a GPU). The decoder uses it with MINDGAP_DECODE=graph.
//
// The graph reads and writes fixed buffers: the step's inputs are copied into them before each
// replay, the KV cache's storage stays where it is, and the output is a buffer the next step
// overwrites. The cache slots not yet written are zeroed once, so that the masked part of the
// attention multiplies zeros rather than uninitialised memory.
#include <memory>

#include <torch/types.h>

#include "models/gpt.h"
#include "models/kv_cache.h"

namespace mg {

class DecodeGraph {
 public:
  DecodeGraph(Gpt model, KvCache& cache);
  ~DecodeGraph();
  DecodeGraph(const DecodeGraph&) = delete;
  DecodeGraph& operator=(const DecodeGraph&) = delete;

  // One step: tokens, positions, key_start [B] int64 on the model's device, written at cache
  // slot `slot` (= cache.length()); advances the cache. Returns hidden states [B,D], valid until
  // the next step.
  torch::Tensor step(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& key_start,
                     int64_t slot);
  // Whether a CUDA graph was captured (false on the CPU, and before the first GPU step).
  bool captured() const { return graph_ != nullptr; }

 private:
  void zero_unwritten_slots();
  void capture();

  Gpt model_;
  KvCache& cache_;
  struct Graph;                    // at::cuda::CUDAGraph, kept out of this header
  std::unique_ptr<Graph> graph_;   // declared before the buffers: they go first
  torch::Tensor tokens_, positions_, key_start_, slot_, out_;
};

}  // namespace mg
