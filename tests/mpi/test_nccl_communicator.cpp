// The NCCL communicator, one GPU per rank (mpirun -np 2 on a machine with two GPUs or more);
// skipped where there are fewer GPUs than ranks.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <memory>

#include "core/sanitizer_defaults.h"  // this binary's main is here, not in tests/test_main.cpp
#include "core/distributed/communicator.h"
#include "core/distributed/grad_sync.h"
#include "core/errors.h"
#include "core/runtime.h"

namespace {

std::unique_ptr<mg::Communicator>& comm_slot() {
  static std::unique_ptr<mg::Communicator> comm;
  return comm;
}

class Nccl : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!comm_slot()) GTEST_SKIP() << "no GPU: NCCL needs one GPU per rank";
  }
  mg::Communicator& comm() { return *comm_slot(); }
  torch::Device device() { return torch::Device(torch::kCUDA, mg::discover_ranks().local_rank); }
};

TEST_F(Nccl, IdentifiesItself) {
  EXPECT_EQ(comm().backend(), "nccl");
  EXPECT_EQ(comm().rank(), mg::discover_ranks().rank);
}

TEST_F(Nccl, AllReduceSumAndMean) {
  int w = comm().world_size();
  auto t = torch::full({1000}, static_cast<float>(comm().rank() + 1), torch::TensorOptions().device(device()));
  comm().all_reduce_sum(t);
  EXPECT_TRUE(torch::equal(t.cpu(), torch::full({1000}, w * (w + 1) / 2.0f)));
  auto d = torch::full({3}, static_cast<double>(comm().rank()), torch::TensorOptions().device(device()).dtype(torch::kFloat64));
  comm().all_reduce_mean(d);
  EXPECT_TRUE(torch::allclose(d.cpu(), torch::full({3}, (w - 1) / 2.0, torch::kFloat64)));
  auto i = torch::tensor({(int64_t{1} << 40) + comm().rank()});  // a CPU tensor, staged through the GPU
  comm().all_reduce_sum(i);
  EXPECT_EQ(i.item<int64_t>(), (int64_t{1} << 40) * w + int64_t{w} * (w - 1) / 2);
}

TEST_F(Nccl, BroadcastAndGather) {
  for (int root = 0; root < comm().world_size(); ++root) {
    auto t = torch::full({4, 4}, static_cast<float>(comm().rank()), torch::TensorOptions().device(device())).t();
    comm().broadcast(t, root);  // non-contiguous: written back through a copy
    EXPECT_TRUE(torch::equal(t.cpu(), torch::full({4, 4}, static_cast<float>(root))));
  }
  auto all = comm().all_gather_bytes(std::string(static_cast<size_t>(comm().rank()) * 5, 'x'));
  ASSERT_EQ(static_cast<int>(all.size()), comm().world_size());
  for (int r = 0; r < comm().world_size(); ++r) EXPECT_EQ(all[r], std::string(static_cast<size_t>(r) * 5, 'x'));
  EXPECT_NO_THROW(comm().barrier());
}

TEST_F(Nccl, AgreeNamesTheFailedRank) {
  try {
    comm().agree(comm().rank() != 1, "stage");
    ADD_FAILURE() << "agree did not throw";
  } catch (const mg::Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 1"), std::string::npos) << e.what();
  }
}

TEST_F(Nccl, GradientsAreAveraged) {
  torch::manual_seed(comm().rank());
  torch::nn::Linear net(5, 3);
  net->to(device());
  mg::broadcast_parameters(*net, comm(), 0);
  auto x = torch::full({2, 5}, static_cast<float>(comm().rank() + 1), torch::TensorOptions().device(device()));
  net->forward(x).sum().backward();
  mg::all_reduce_gradients(*net, comm(), 16);
  // d(sum)/dW = column sums of x = 2 * (rank + 1) per entry; the mean over ranks is w + 1.
  auto expected = torch::full({3, 5}, static_cast<float>(comm().world_size() + 1));
  EXPECT_TRUE(torch::allclose(net->weight.grad().cpu(), expected));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  mg::set_threads(1);
  auto info = mg::discover_ranks();
  bool enough_gpus = torch::cuda::is_available() && info.world_size > 1 &&
                     static_cast<int>(torch::cuda::device_count()) >= info.world_size;
  // One node: every rank sees the same GPUs, so every rank makes the same choice (a rank
  // alone in ncclCommInitRank would wait forever).
  if (enough_gpus) comm_slot() = mg::make_communicator(info, torch::Device(torch::kCUDA, info.local_rank));
  int rc = RUN_ALL_TESTS();
  comm_slot().reset();
  return rc;
}
