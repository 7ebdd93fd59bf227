#include "core/distributed/grad_sync.h"

#include <map>
#include <utility>

#include <torch/torch.h>

#include "core/errors.h"

namespace mg {
namespace {

// Tensors of one dtype and device waiting to travel together.
struct Bucket {
  std::vector<torch::Tensor> grads;
  size_t bytes = 0;
};

void reduce_bucket(Bucket& b, Communicator& comm) {
  if (b.grads.empty()) return;
  if (b.grads.size() == 1 && b.grads[0].is_contiguous()) {
    comm.all_reduce_mean(b.grads[0]);  // nothing to pack
  } else {
    auto flat = flatten_bucket(b.grads);
    comm.all_reduce_mean(flat);
    unflatten_bucket(flat, b.grads);
  }
  b.grads.clear();
  b.bytes = 0;
}

}  // namespace

torch::Tensor flatten_bucket(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> parts;
  parts.reserve(tensors.size());
  for (const auto& t : tensors) parts.push_back(t.reshape({-1}));
  return torch::cat(parts);
}

void unflatten_bucket(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) {
  int64_t offset = 0;
  for (auto& t : tensors) {
    t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

void broadcast_parameters(torch::nn::Module& module, Communicator& comm, int root) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    auto data = p.detach();  // shares storage; in-place writes reach the parameter
    comm.broadcast(data, root);
  }
  for (auto& b : module.buffers()) {
    auto data = b.detach();
    comm.broadcast(data, root);
  }
}

void all_reduce_gradients(torch::nn::Module& module, Communicator& comm, size_t bucket_bytes) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  // Keyed by (dtype, device); flushed in order of first appearance so that every rank issues
  // the same collectives in the same order.
  std::map<std::pair<int, std::string>, size_t> slot_of;
  std::vector<Bucket> buckets;
  for (auto& p : module.parameters()) {
    if (!p.requires_grad()) continue;
    if (!p.mutable_grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    torch::Tensor g = p.mutable_grad();
    check(!g.is_sparse(), "all_reduce_gradients: sparse gradients are not supported");
    auto key = std::make_pair(static_cast<int>(g.scalar_type()), g.device().str());
    auto [it, fresh] = slot_of.try_emplace(key, buckets.size());
    if (fresh) buckets.emplace_back();
    Bucket& b = buckets[it->second];
    size_t bytes = static_cast<size_t>(g.numel()) * g.element_size();
    if (!b.grads.empty() && b.bytes + bytes > bucket_bytes) reduce_bucket(b, comm);
    b.grads.push_back(g);
    b.bytes += bytes;
  }
  for (auto& b : buckets) reduce_bucket(b, comm);
}

}  // namespace mg
