// The CPU communicators' collectives on 2 ranks: MPI under mpirun -np 2, Gloo under torchrun
// --nproc_per_node=2 (the same binary). Expected values are written for any world size W.
#include <chrono>
#include <thread>

#include "core/sanitizer_defaults.h"  // this binary's main is here, not in tests/test_main.cpp
#include "core/errors.h"
#include "tests/mpi/mpi_test_env.h"

namespace {

using mg::testing::comm;

TEST(Communicator, IdentifiesItself) {
  auto info = mg::discover_ranks();
  EXPECT_EQ(comm().backend(), info.launcher == "mpirun" ? "mpi" : "gloo");
  EXPECT_EQ(comm().rank(), info.rank);
  EXPECT_EQ(comm().world_size(), info.world_size);
}

TEST(Communicator, AllReduceSumFloat32) {
  int w = comm().world_size();
  auto t = torch::full({7}, static_cast<float>(comm().rank() + 1));
  comm().all_reduce_sum(t);
  EXPECT_TRUE(torch::equal(t, torch::full({7}, w * (w + 1) / 2.0f)));
}

TEST(Communicator, AllReduceSumFloat64AndInt64) {
  int w = comm().world_size();
  auto d = torch::tensor({0.25, -1.5}, torch::kFloat64) * (comm().rank() + 1);
  comm().all_reduce_sum(d);
  double k = w * (w + 1) / 2.0;
  EXPECT_TRUE(torch::equal(d, torch::tensor({0.25 * k, -1.5 * k}, torch::kFloat64)));

  // Values beyond float precision must survive exactly.
  int64_t big = (int64_t{1} << 40) + 3;
  auto i = torch::tensor({big + comm().rank()}, torch::kInt64);
  comm().all_reduce_sum(i);
  EXPECT_EQ(i.item<int64_t>(), big * w + static_cast<int64_t>(w) * (w - 1) / 2);
}

TEST(Communicator, AllReduceMean) {
  int w = comm().world_size();
  auto t = torch::arange(6, torch::kFloat32).reshape({2, 3}) + comm().rank();
  comm().all_reduce_mean(t);
  auto expected = torch::arange(6, torch::kFloat32).reshape({2, 3}) + (w - 1) / 2.0f;
  EXPECT_TRUE(torch::allclose(t, expected));
}

TEST(Communicator, AllReduceNonContiguousWritesBack) {
  int w = comm().world_size();
  auto base = torch::arange(12, torch::kFloat64).reshape({3, 4});
  auto t = (base * (comm().rank() + 1)).t();  // a transposed view
  ASSERT_FALSE(t.is_contiguous());
  comm().all_reduce_sum(t);
  EXPECT_TRUE(torch::equal(t, base.t() * (w * (w + 1) / 2.0)));
}

TEST(Communicator, UnsupportedDtypeThrowsOnEveryRank) {
  auto t = torch::ones({3}, torch::kBool);
  EXPECT_THROW(comm().all_reduce_sum(t), mg::Error);
  auto i = torch::ones({3}, torch::kInt64);
  EXPECT_THROW(comm().all_reduce_mean(i), mg::Error);
}

TEST(Communicator, BroadcastFromEachRoot) {
  for (int root = 0; root < comm().world_size(); ++root) {
    auto t = torch::full({2, 5}, static_cast<double>(comm().rank() * 10 + 1), torch::kFloat64);
    comm().broadcast(t, root);
    EXPECT_TRUE(torch::equal(t, torch::full({2, 5}, root * 10.0 + 1, torch::kFloat64))) << "root " << root;
  }
}

TEST(Communicator, AllGatherBytesOfDifferentLengths) {
  int w = comm().world_size();
  auto mine_of = [](int r) {
    std::string s(static_cast<size_t>(r) * 3, static_cast<char>('a' + r));  // rank 0: empty
    if (r % 2 == 1) s += std::string("\0\xff", 2);                            // binary bytes too
    return s;
  };
  auto all = comm().all_gather_bytes(mine_of(comm().rank()));
  ASSERT_EQ(static_cast<int>(all.size()), w);
  for (int r = 0; r < w; ++r) EXPECT_EQ(all[r], mine_of(r)) << "rank " << r;
}

TEST(Communicator, AllGatherBytesAllEmpty) {
  auto all = comm().all_gather_bytes("");
  ASSERT_EQ(static_cast<int>(all.size()), comm().world_size());
  for (auto& s : all) EXPECT_TRUE(s.empty());
}

TEST(Communicator, BarrierWaitsForTheLastRank) {
  using clock = std::chrono::steady_clock;
  comm().barrier();  // start together
  auto start = clock::now();
  if (comm().rank() == comm().world_size() - 1) std::this_thread::sleep_for(std::chrono::milliseconds(400));
  comm().barrier();
  double waited = std::chrono::duration<double>(clock::now() - start).count();
  EXPECT_GE(waited, 0.35) << "rank " << comm().rank() << " left the barrier before the late rank arrived";
}

TEST(Communicator, AgreeAllOk) { EXPECT_NO_THROW(comm().agree(true, "stage generate")); }

TEST(Communicator, AgreeNamesTheFailedRank) {
  int last = comm().world_size() - 1;
  try {
    comm().agree(comm().rank() != last, "stage verify");
    ADD_FAILURE() << "agree did not throw on rank " << comm().rank();
  } catch (const mg::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("stage verify"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rank " + std::to_string(last)), std::string::npos) << msg;
  }
}

TEST(Communicator, AgreeNamesEveryFailedRank) {
  try {
    comm().agree(false, "checkpoint");
    ADD_FAILURE() << "agree did not throw";
  } catch (const mg::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("ranks 0, 1"), std::string::npos) << msg;
  }
}

TEST(Communicator, SecondCommunicatorWorksBesideTheFirst) {
  // MPI is already initialised by the first: the second neither re-initialises nor finalises.
  // Gloo: the second meets under its own keys of the launch's store.
  auto second = mg::make_communicator(mg::discover_ranks(), torch::Device(torch::kCPU));
  auto t = torch::ones({2}, torch::kInt64);
  second->all_reduce_sum(t);
  EXPECT_EQ(t.sum().item<int64_t>(), 2 * comm().world_size());
  second.reset();
  auto u = torch::ones({1});
  comm().all_reduce_sum(u);  // the first still works
  EXPECT_EQ(u.item<float>(), static_cast<float>(comm().world_size()));
}

}  // namespace

int main(int argc, char** argv) { return mg::testing::run_mpi_tests(argc, argv); }
