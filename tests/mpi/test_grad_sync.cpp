// Data-parallel gradients on CPU ranks (mpirun -np 2): one all-reduced step on per-rank
// slices of a batch gives the single-process gradient of the whole batch, whether the
// all-reduce runs after the backward pass or overlapped with it.
#include "core/sanitizer_defaults.h"  // this binary's main is here, not in tests/test_main.cpp
#include "core/distributed/grad_sync.h"
#include "core/distributed/overlapped_grad_sync.h"
#include "tests/mpi/mpi_test_env.h"

namespace {

using mg::testing::comm;

struct Net : torch::nn::Module {
  Net() {
    fc1 = register_module("fc1", torch::nn::Linear(6, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 3));
    unused = register_parameter("unused", torch::ones({4}));  // never in the graph: no .grad
    frozen = register_parameter("frozen", torch::ones({2}), /*requires_grad=*/false);
    register_buffer("steps", torch::zeros({1}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2->forward(torch::tanh(fc1->forward(x))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::Tensor unused, frozen;
};

// The whole batch, the same on every rank.
std::pair<torch::Tensor, torch::Tensor> batch(int64_t n, torch::ScalarType dtype) {
  torch::manual_seed(1234);
  auto x = torch::randn({n, 6}).to(dtype);
  auto y = torch::randn({n, 3}).to(dtype);
  return {x, y};
}

std::vector<torch::Tensor> grads_of(Net& net) {
  std::vector<torch::Tensor> out;
  for (auto& p : net.parameters())
    if (p.requires_grad()) out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  return out;
}

enum class Sync { After, Overlapped, OverlappedAccumulated };

// Gradients of an all-reduced step on this rank's slice, and of one process on everything.
// OverlappedAccumulated: the slice in two micro-steps, only the second one's backward synced.
void compare_with_single_process(torch::ScalarType dtype, size_t bucket_bytes, double tol,
                                 Sync sync = Sync::After) {
  const int64_t n = 8 * comm().world_size();
  auto [x, y] = batch(n, dtype);

  torch::manual_seed(7);
  Net reference;
  reference.to(dtype);
  torch::mse_loss(reference.forward(x), y).backward();
  auto expected = grads_of(reference);

  torch::manual_seed(100 + comm().rank());  // different weights on every rank...
  Net net;
  net.to(dtype);
  {
    torch::NoGradGuard no_grad;  // ...and rank 0's are the reference's
    if (comm().rank() == 0)
      for (size_t i = 0; i < net.parameters().size(); ++i) net.parameters()[i].copy_(reference.parameters()[i]);
  }
  mg::broadcast_parameters(net, comm(), 0);
  for (size_t i = 0; i < net.parameters().size(); ++i)
    ASSERT_TRUE(torch::equal(net.parameters()[i], reference.parameters()[i])) << "parameter " << i;

  int64_t per_rank = n / comm().world_size();
  auto xs = x.narrow(0, comm().rank() * per_rank, per_rank);
  auto ys = y.narrow(0, comm().rank() * per_rank, per_rank);
  std::vector<torch::Tensor> local;
  if (sync == Sync::After) {
    torch::mse_loss(net.forward(xs), ys).backward();
    local = grads_of(net);
    mg::all_reduce_gradients(net, comm(), bucket_bytes);
  } else if (sync == Sync::Overlapped) {
    mg::OverlappedGradSync overlapped(net, comm(), bucket_bytes);
    torch::mse_loss(net.forward(xs), ys).backward();
    local = grads_of(net);
    overlapped.finish();
  } else {
    int64_t half = per_rank / 2;  // equal halves: the mean of the two means is the slice's mean
    (torch::mse_loss(net.forward(xs.narrow(0, 0, half)), ys.narrow(0, 0, half)) / 2).backward();
    mg::OverlappedGradSync overlapped(net, comm(), bucket_bytes);
    (torch::mse_loss(net.forward(xs.narrow(0, half, half)), ys.narrow(0, half, half)) / 2).backward();
    local = grads_of(net);
    overlapped.finish();
  }
  auto got = grads_of(net);

  ASSERT_EQ(got.size(), expected.size());
  bool differs_before = false;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(torch::allclose(got[i], expected[i], tol, tol))
        << "parameter " << i << " max diff " << (got[i] - expected[i]).abs().max().item<double>();
    differs_before = differs_before || !torch::allclose(local[i], expected[i], tol, tol);
  }
  EXPECT_TRUE(differs_before) << "the local half-batch gradient already matched: the test proves nothing";
  ASSERT_TRUE(net.unused.grad().defined());
  EXPECT_EQ(net.unused.grad().abs().sum().item<double>(), 0.0);
  EXPECT_FALSE(net.frozen.grad().defined());
}

TEST(GradSync, OneBucketFloat32) { compare_with_single_process(torch::kFloat32, 4 << 20, 1e-5); }

TEST(GradSync, TinyBucketsFloat32) { compare_with_single_process(torch::kFloat32, 64, 1e-5); }

TEST(GradSync, Float64) { compare_with_single_process(torch::kFloat64, 1 << 10, 1e-12); }

TEST(GradSync, OverlappedOneBucketFloat32) {
  compare_with_single_process(torch::kFloat32, 4 << 20, 1e-5, Sync::Overlapped);
}

TEST(GradSync, OverlappedTinyBucketsFloat32) { compare_with_single_process(torch::kFloat32, 64, 1e-5, Sync::Overlapped); }

TEST(GradSync, OverlappedFloat64) { compare_with_single_process(torch::kFloat64, 1 << 10, 1e-12, Sync::Overlapped); }

TEST(GradSync, OverlappedWithAccumulation) {
  compare_with_single_process(torch::kFloat32, 256, 1e-5, Sync::OverlappedAccumulated);
}

// Every parameter in the graph: the hooks start every bucket before backward returns, and the
// result is exactly that of the all-reduce after backward.
TEST(GradSync, OverlappedBucketsStartDuringBackward) {
  auto make = [] {
    torch::manual_seed(11);
    return torch::nn::Sequential(torch::nn::Linear(6, 32), torch::nn::Tanh(), torch::nn::Linear(32, 32),
                                 torch::nn::Tanh(), torch::nn::Linear(32, 3));
  };
  torch::manual_seed(20 + comm().rank());
  auto x = torch::randn({5, 6});
  auto after = make();
  torch::mse_loss(after->forward(x), torch::zeros({5, 3})).backward();
  mg::all_reduce_gradients(*after, comm(), 512);

  auto overlapped = make();
  mg::OverlappedGradSync sync(*overlapped, comm(), 512);
  torch::mse_loss(overlapped->forward(x), torch::zeros({5, 3})).backward();
  EXPECT_GT(sync.buckets(), 3u);
  EXPECT_EQ(sync.started_by_hooks(), sync.buckets());
  sync.finish();
  auto a = after->parameters(), b = overlapped->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].grad(), b[i].grad())) << "parameter " << i;
  // The hooks are gone: another backward pass starts nothing.
  torch::mse_loss(overlapped->forward(x), torch::zeros({5, 3})).backward();
}

TEST(GradSync, BroadcastCopiesBuffers) {
  torch::manual_seed(5 + comm().rank());
  Net net;
  net.named_buffers()["steps"].fill_(static_cast<double>(comm().rank() + 3));
  mg::broadcast_parameters(net, comm(), comm().world_size() - 1);
  EXPECT_EQ(net.named_buffers()["steps"].item<double>(), comm().world_size() + 2.0);
  // Every rank now holds the same weights: their sum is W times this rank's.
  for (auto& p : net.parameters()) {
    auto sum = p.detach().clone();
    comm().all_reduce_sum(sum);
    EXPECT_TRUE(torch::allclose(sum, p.detach() * comm().world_size()));
  }
}

}  // namespace

int main(int argc, char** argv) { return mg::testing::run_mpi_tests(argc, argv); }
