#include "models/decode_graph.h"

#include <torch/torch.h>

#include "core/errors.h"

#ifdef MINDGAP_HAVE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace mg {

#ifdef MINDGAP_HAVE_CUDA
struct DecodeGraph::Graph {
  at::cuda::CUDAGraph graph;
};
#else
struct DecodeGraph::Graph {};
#endif

DecodeGraph::DecodeGraph(Gpt model, KvCache& cache) : model_(std::move(model)), cache_(cache) {}

DecodeGraph::~DecodeGraph() {
  // The output lives in the graph's memory pool: release the buffers before the graph.
  out_ = tokens_ = positions_ = key_start_ = slot_ = torch::Tensor();
  graph_.reset();
}

void DecodeGraph::zero_unwritten_slots() {
  const int64_t len = cache_.length(), cap = cache_.capacity();
  const auto dtype = model_->unembedding().scalar_type();
  for (int64_t l = 0; l < model_->config().n_layer; ++l) {
    auto [k, v] = cache_.storage(l, dtype);
    k.narrow(2, len, cap - len).zero_();
    v.narrow(2, len, cap - len).zero_();
  }
}

void DecodeGraph::capture() {
#ifdef MINDGAP_HAVE_CUDA
  const auto device = tokens_.device();
  // The capture stream starts after everything queued so far (prefill, the input copies).
  c10::cuda::getCurrentCUDAStream(device.index()).synchronize();
  auto stream = c10::cuda::getStreamFromPool(false, device.index());
  {
    c10::cuda::CUDAStreamGuard guard(stream);
    // Warm-up outside the capture (cuBLAS handles, allocator blocks). It writes this step's
    // slot with this step's k and v, as the replay below does again.
    model_->hidden_step_static(tokens_, positions_, key_start_, slot_, cache_);
    stream.synchronize();
    auto g = std::make_unique<Graph>();
    g->graph.capture_begin();
    out_ = model_->hidden_step_static(tokens_, positions_, key_start_, slot_, cache_);
    g->graph.capture_end();
    stream.synchronize();
    graph_ = std::move(g);
  }
#else
  fail_internal("DecodeGraph: this build has no CUDA");
#endif
}

torch::Tensor DecodeGraph::step(const torch::Tensor& tokens, const torch::Tensor& positions,
                                const torch::Tensor& key_start, int64_t slot) {
  check(slot == cache_.length() && slot < cache_.capacity(), "DecodeGraph: the step's slot is not the cache's next");
  const bool first = !tokens_.defined();
  if (first) {
    zero_unwritten_slots();
    tokens_ = tokens.to(torch::kInt64).contiguous().clone();
    positions_ = positions.to(torch::kInt64).contiguous().clone();
    key_start_ = key_start.to(torch::kInt64).contiguous().clone();
    slot_ = torch::full({1}, slot, tokens_.options());
  } else {
    check(tokens.sizes() == tokens_.sizes(), "DecodeGraph: the batch changed");
    tokens_.copy_(tokens), positions_.copy_(positions), key_start_.copy_(key_start);
    slot_.fill_(slot);
  }
  if (!tokens_.is_cuda()) {
    out_ = model_->hidden_step_static(tokens_, positions_, key_start_, slot_, cache_);
  } else {
#ifdef MINDGAP_HAVE_CUDA
    if (first) capture();
    graph_->graph.replay();
#else
    fail_internal("DecodeGraph: a CUDA tensor in a build without CUDA");
#endif
  }
  cache_.advance(1);
  return out_;
}

}  // namespace mg
