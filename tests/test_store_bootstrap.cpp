// The TCPStore hand-off that carries the NCCL unique id under torchrun-style launches, tried
// on the CPU with two processes: this one as rank 0 (serving the store), a fork as rank 1.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "core/distributed/store_bootstrap.h"
#include "core/errors.h"

namespace {

// A port that was free a moment ago (the kernel picks it).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  ::close(fd);
  return ntohs(addr.sin_port);
}

mg::RankInfo torchrun_rank(int rank, int world, int port) {
  mg::RankInfo info;
  info.rank = rank;
  info.world_size = world;
  info.launcher = "torchrun";
  info.master_addr = "127.0.0.1";
  info.master_port = port;
  return info;
}

TEST(StoreBootstrap, RankZeroPayloadReachesRankOne) {
  if (!mg::dist::have_tcp_store()) GTEST_SKIP() << "this libtorch has no c10d TCPStore";
  int port = free_port();
  ASSERT_GT(port, 0);
  // Binary bytes, as in an NCCL unique id.
  const std::string payload = std::string("id\0\x01\xfe", 5) + std::string(123, 'z');
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 3;
    try {
      auto got = mg::dist::share_over_store(torchrun_rank(1, 2, port), "test_key",
                                            [] { return std::string("rank 1 must not make it"); },
                                            std::chrono::seconds(20));
      code = got == payload ? 0 : 4;
    } catch (...) {
      code = 5;
    }
    ::_exit(code);  // no gtest or torch teardown in the fork
  }
  bool made = false;
  std::string got = mg::dist::share_over_store(torchrun_rank(0, 2, port), "test_key",
                                               [&] {
                                                 made = true;
                                                 return payload;
                                               },
                                               std::chrono::seconds(20));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(made);
  EXPECT_EQ(got, payload);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "rank 1 did not receive the payload (4: wrong bytes, 5: error)";
}

TEST(StoreBootstrap, MissingMasterAddressIsBadInput) {
  auto info = torchrun_rank(0, 2, 29500);
  info.master_addr.clear();
  try {
    mg::dist::share_over_store(info, "k", [] { return std::string("x"); });
    ADD_FAILURE() << "no error";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("MASTER_ADDR"), std::string::npos) << e.what();
  }
}

}  // namespace
