// GptImpl::hidden_step_cpu: a decoding step with the fewest operators per layer. Each linear is
// one addmm with its residual or bias folded in, and the attention with its rotation and cache
// write is one kernel; the module path's views, permutes, narrows and SDPA steps are gone.
#include <algorithm>
#include <optional>
#include <tuple>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "core/serial_scope.h"
#include "kernels/decode_attention.h"
#include "models/gpt.h"
#include "models/packed_linear.h"
#include "models/rope.h"

namespace mg {
namespace {

// Fewer rows than this per thread run on one thread: below it the threads' wake-ups and their
// share of the memory bandwidth (a step reads the whole KV cache) cost more than they save.
constexpr int64_t kMinRowsPerThread = 128;

torch::Tensor layer_norm(const torch::Tensor& x, const torch::nn::LayerNorm& ln) {
  return at::layer_norm(x, ln->options.normalized_shape(), ln->weight, ln->bias, ln->options.eps());
}

// residual + x @ W^T + bias, in two operators.
torch::Tensor linear_into(PackedLinears& packed, const torch::Tensor& residual, const torch::Tensor& x,
                          const torch::nn::Linear& lin) {
  auto y = packed.addmm(residual, x, lin->weight);
  return y.add_(lin->bias);
}

}  // namespace

torch::Tensor GptImpl::hidden_step_cpu(const torch::Tensor& tokens, const torch::Tensor& positions,
                                       const torch::Tensor& key_start, KvCache& cache) {
  check(tokens.dim() == 1 && tokens.scalar_type() == torch::kInt64 && positions.sizes() == tokens.sizes(),
        "hidden_step_cpu: tokens and positions must be int64 [B]");
  check(wte->weight.device().is_cpu() && wte->weight.scalar_type() == torch::kFloat32,
        "hidden_step_cpu: an fp32 model on the CPU");
  check(!is_training(), "hidden_step_cpu: inference only (no dropout)");
  torch::Tensor cos, sin;  // [B, hd/2], one table for every layer and head
  if (cfg_.pos == "rope") std::tie(cos, sin) = rope_tables(positions, cfg_.head_dim());
  const int64_t B = tokens.size(0), slot = cache.length();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> kv;  // allocated here, before the threads
  for (size_t l = 0; l < blocks_.size(); ++l) kv.push_back(cache.storage(static_cast<int64_t>(l), torch::kFloat32));
  auto out = torch::empty({B, cfg_.d_model}, wte->weight.options());
  PackedLinears& packed = *packed_;

  // At most one parallel region per step: each thread runs the whole step for its share of the
  // rows, every operator inside it on one thread. Threading each small operator instead woke
  // the other thread ~50 times a step, which cost more than the arithmetic it shared: on the
  // 2-core machine of docs/results/benchmarks.md, B = 64 decoded faster on one thread than on
  // two that way.
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  const int64_t rows_per_thread = std::max<int64_t>(kMinRowsPerThread, (B + threads - 1) / threads);
  // One share of rows: the step runs on this thread, its matrix products included.
  std::optional<SerialScope> serial;
  if (rows_per_thread >= B && threads > 1) serial.emplace();
  at::parallel_for(0, B, rows_per_thread, [&](int64_t begin, int64_t end) {
    c10::InferenceMode inference;  // the caller's mode is thread-local: set it on this thread too
    // This thread's rows of a [B, ...] tensor (an undefined one, no rotary, stays undefined).
    auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, begin, end - begin) : t; };
    auto x = wte->weight.index_select(0, rows(tokens));  // [n,D]
    if (cfg_.pos == "learned") x.add_(wpe->weight.index_select(0, rows(positions)));
    for (size_t l = 0; l < blocks_.size(); ++l) {
      auto& b = blocks_[l];
      auto qkv = packed.addmm(b->attn->qkv->bias, layer_norm(x, b->ln1), b->attn->qkv->weight);
      auto k_rows = rows(kv[l].first), v_rows = rows(kv[l].second);
      auto att = kernels::decode_attention_cpu(qkv, k_rows, v_rows, slot, rows(key_start), rows(cos), rows(sin),
                                               cfg_.n_head);
      auto h = linear_into(packed, x, att, b->attn->proj);
      auto f = packed.addmm(b->fc->bias, layer_norm(h, b->ln2), b->fc->weight);
      at::gelu_(f, "tanh");
      x = linear_into(packed, h, f, b->proj);
    }
    rows(out).copy_(layer_norm(x, ln_f));
  });
  cache.advance(1);
  return out;
}

}  // namespace mg
