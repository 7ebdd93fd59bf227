#pragma once
// Data parallelism on top of a Communicator: the same weights everywhere at the start, the
// mean gradient everywhere after each backward pass.
#include <cstddef>
#include <vector>

#include <torch/nn/module.h>

#include "core/distributed/communicator.h"

namespace mg {

// Copies every parameter and buffer of `module` from rank `root` to all ranks.
void broadcast_parameters(torch::nn::Module& module, Communicator& comm, int root = 0);

// Replaces every trainable parameter's .grad by its mean over the ranks. Gradients travel in
// flat buckets of about `bucket_bytes` (one collective per bucket, not per tensor), grouped by
// dtype and device in parameter order. A trainable parameter without a gradient on this rank
// counts as zeros, so every rank enters the same collectives. With equal per-rank batches
// and a mean loss, the result equals the single-process gradient on the whole batch up to
// rounding.
void all_reduce_gradients(torch::nn::Module& module, Communicator& comm, size_t bucket_bytes = 4 << 20);

// What both gradient all-reduces (this one and OverlappedGradSync) do to a bucket: its
// tensors laid end to end in one flat tensor, the unit of a collective, and the flat result
// copied back into them.
torch::Tensor flatten_bucket(const std::vector<torch::Tensor>& tensors);
void unflatten_bucket(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors);

}  // namespace mg
