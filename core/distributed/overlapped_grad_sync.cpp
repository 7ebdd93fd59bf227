#include "core/distributed/overlapped_grad_sync.h"

#include <set>

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include "core/distributed/grad_sync.h"
#include "core/errors.h"

namespace mg {

namespace autograd_impl = torch::autograd::impl;

// Runs after AccumulateGrad has written a parameter's .grad for this backward pass: the
// gradient then holds every use of the parameter in the graph (and, with accumulation, the
// earlier micro-steps), unlike a hook on the incoming gradient. C++ owns the slot: libtorch
// uses it only for Python's register_post_accumulate_grad_hook.
struct OverlappedGradSync::ReadyHook final : torch::autograd::PostAccumulateGradHook {
  ReadyHook(OverlappedGradSync& sync, size_t param) : sync(sync), param(param) {}
  void operator()(const torch::autograd::Variable& /*param*/) override { sync.on_ready(param); }
  OverlappedGradSync& sync;
  size_t param;
};

OverlappedGradSync::OverlappedGradSync(torch::nn::Module& module, Communicator& comm, size_t bucket_bytes)
    : comm_(comm) {
  std::set<const void*> seen;  // a parameter shared by two submodules is listed twice
  for (auto& p : module.parameters())
    if (p.requires_grad() && seen.insert(p.unsafeGetTensorImpl()).second) params_.push_back(p);
  bucket_of_.resize(params_.size());
  ready_.assign(params_.size(), false);
  // Reverse registration order: the output layers' gradients come first out of backward.
  size_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& p = params_[k];
    size_t size = static_cast<size_t>(p.numel()) * p.element_size();
    bool fits = false;
    if (!buckets_.empty()) {
      const auto& first = params_[buckets_.back().params.front()];
      fits = first.scalar_type() == p.scalar_type() && first.device() == p.device() && bytes + size <= bucket_bytes;
    }
    if (!fits) {
      buckets_.emplace_back();
      bytes = 0;
    }
    buckets_.back().params.push_back(k);
    buckets_.back().waiting++;
    bytes += size;
    bucket_of_[k] = buckets_.size() - 1;
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    check(autograd_impl::post_acc_grad_hooks(params_[k]) == nullptr,
          "OverlappedGradSync: a parameter already has a post-accumulate-grad hook");
    autograd_impl::set_post_acc_grad_hooks(params_[k], std::make_unique<ReadyHook>(*this, k));
  }
  hooked_ = true;
}

OverlappedGradSync::~OverlappedGradSync() { remove_hooks(); }

void OverlappedGradSync::remove_hooks() {
  if (!hooked_) return;
  for (auto& p : params_) autograd_impl::set_post_acc_grad_hooks(p, nullptr);
  hooked_ = false;
}

void OverlappedGradSync::on_ready(size_t param) {
  // Once per backward pass; a second firing means a second backward pass after the
  // bucket may already have left with the first one's gradient.
  check(!ready_[param], "OverlappedGradSync: a gradient was produced twice; construct it before the last backward pass only");
  ready_[param] = true;
  buckets_[bucket_of_[param]].waiting--;
  start_ready_buckets();
  started_by_hooks_ = next_;
  // MPI moves nonblocking collectives along only inside MPI calls: give the buckets in
  // flight a chance at every hook, between the backward pass's kernels.
  for (size_t b = 0; b < next_; ++b) buckets_[b].pending->test();
}

void OverlappedGradSync::start_ready_buckets() {
  while (next_ < buckets_.size() && buckets_[next_].waiting == 0) start(buckets_[next_++]);
}

void OverlappedGradSync::start(Bucket& b) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  grads.reserve(b.params.size());
  for (size_t k : b.params) {
    auto& p = params_[k];
    if (!p.mutable_grad().defined()) p.mutable_grad() = torch::zeros_like(p);  // not in this rank's graph
    const auto& g = p.grad();
    check(!g.is_sparse(), "OverlappedGradSync: sparse gradients are not supported");
    check(g.scalar_type() == p.scalar_type(), "OverlappedGradSync: a gradient of another dtype than its parameter");
    grads.push_back(g);
  }
  b.flat = flatten_bucket(grads);
  b.pending = comm_.all_reduce_sum_async(b.flat);
}

void OverlappedGradSync::finish() {
  remove_hooks();
  // Parameters outside this rank's graph (or a rank with no examples) never fired.
  for (auto& b : buckets_) b.waiting = 0;
  start_ready_buckets();
  torch::NoGradGuard no_grad;
  const double world = static_cast<double>(comm_.world_size());
  for (auto& b : buckets_) {
    check(b.pending != nullptr, "OverlappedGradSync: finish() called twice");
    b.pending->wait();
    b.flat.div_(world);
    std::vector<torch::Tensor> grads;
    grads.reserve(b.params.size());
    for (size_t k : b.params) grads.push_back(params_[k].mutable_grad());
    unflatten_bucket(b.flat, grads);
    b.pending.reset();
    b.flat = torch::Tensor();
  }
}

}  // namespace mg
