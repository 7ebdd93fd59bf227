// One process: every collective is the identity.
#include <cstdio>
#include <cstdlib>

#include "core/distributed/backends.h"
#include "core/errors.h"

namespace mg::dist {
namespace {

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(torch::Tensor& t) override { check(t.defined(), "all_reduce_sum: undefined tensor"); }
  void broadcast(torch::Tensor& t, int root) override {
    check(t.defined(), "broadcast: undefined tensor");
    check(root == 0, "broadcast: root " + std::to_string(root) + " of a single process");
  }
  std::vector<std::string> all_gather_bytes(const std::string& mine) override { return {mine}; }
  void barrier() override {}
  std::string backend() const override { return "single"; }
  [[noreturn]] void abort(int code) override {
    std::fflush(nullptr);
    std::_Exit(code);
  }
};

}  // namespace

std::unique_ptr<Communicator> make_single_communicator() { return std::make_unique<SingleCommunicator>(); }

}  // namespace mg::dist
