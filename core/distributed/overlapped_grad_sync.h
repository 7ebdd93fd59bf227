#pragma once
// The gradient all-reduce of all_reduce_gradients, started during the backward pass: while
// backward still computes the gradients of the first layers, those of the last layers are
// already travelling.
#include <cstddef>
#include <memory>
#include <vector>

#include <torch/nn/module.h>

#include "core/distributed/communicator.h"

namespace mg {

// Construct it just before the backward pass that completes the gradients (with gradient
// accumulation: before the last micro-step's backward), call finish() after it. The result
// is that of all_reduce_gradients: every trainable parameter's .grad replaced by its mean over
// the ranks, a parameter without a gradient counted as zeros.
//
// Trainable parameters are grouped into buckets of about `bucket_bytes` (one dtype and device
// each) in reverse registration order, roughly the order in which backward produces their
// gradients. A hook on each parameter fires once its gradient is accumulated; when a bucket
// is complete it is flattened and its asynchronous all-reduce started. Buckets start in
// bucket order on every rank (a complete bucket waits for the ones before it), so that every
// rank issues the same collectives in the same order whatever order its hooks fire in; a
// parameter outside the graph therefore holds back its bucket and the later ones until
// finish(). The default bucket is smaller than all_reduce_gradients' because a bucket leaves
// only once complete: the tiny model's 3.2 MB of gradients travel in four.
class OverlappedGradSync {
 public:
  OverlappedGradSync(torch::nn::Module& module, Communicator& comm, size_t bucket_bytes = 1 << 20);
  ~OverlappedGradSync();  // removes the hooks if finish() was not reached
  OverlappedGradSync(const OverlappedGradSync&) = delete;
  OverlappedGradSync& operator=(const OverlappedGradSync&) = delete;

  // Removes the hooks, starts the buckets the backward pass did not complete, waits for every
  // bucket (each wait bounded by the communicator's timeout) and writes the means into .grad.
  void finish();

  size_t buckets() const { return buckets_.size(); }
  // Buckets whose all-reduce the hooks started, i.e. during the backward pass.
  size_t started_by_hooks() const { return started_by_hooks_; }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    size_t waiting = 0;          // gradients not yet ready
    torch::Tensor flat;
    std::unique_ptr<PendingCollective> pending;
  };
  struct ReadyHook;

  void on_ready(size_t param);  // from the hook of params_[param]
  void start_ready_buckets();   // in bucket order, up to the first incomplete one
  void start(Bucket& b);
  void remove_hooks();

  Communicator& comm_;
  std::vector<torch::Tensor> params_;
  std::vector<size_t> bucket_of_;  // per parameter
  std::vector<bool> ready_;        // per parameter
  std::vector<Bucket> buckets_;
  size_t next_ = 0;                // the first bucket not started
  size_t started_by_hooks_ = 0;
  bool hooked_ = false;
};

}  // namespace mg
