#include "core/distributed/store_bootstrap.h"

#include <cstdlib>
#include <thread>
#include <vector>

#ifdef MG_HAVE_TCPSTORE
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include "core/errors.h"

namespace mg::dist {

bool have_tcp_store() {
#ifdef MG_HAVE_TCPSTORE
  return true;
#else
  return false;
#endif
}

#ifdef MG_HAVE_TCPSTORE
std::string error_text(const std::exception& e) {
  if (auto* c10_error = dynamic_cast<const c10::Error*>(&e)) return c10_error->what_without_backtrace();
  return e.what();
}

c10::intrusive_ptr<c10d::Store> open_store(const RankInfo& info, const std::string& name,
                                           std::chrono::milliseconds timeout) {
  if (info.master_addr.empty() || info.master_port == 0)
    fail_input("a " + info.launcher + " launch of " + std::to_string(info.world_size) +
               " ranks needs MASTER_ADDR and MASTER_PORT");
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  bool agent_store = agent != nullptr && std::string(agent) == "True";
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(info.master_port);
  opts.isServer = info.rank == 0 && !agent_store;
  opts.waitWorkers = false;
  opts.timeout = timeout;
  const char* attempt = std::getenv("TORCHELASTIC_RESTART_COUNT");
  try {
    auto store = c10::make_intrusive<c10d::TCPStore>(info.master_addr, opts);
    return c10::make_intrusive<c10d::PrefixStore>("mindgap/" + name + "/" + (attempt ? attempt : "0"), store);
  } catch (const std::exception& e) {
    fail_internal("rank " + std::to_string(info.rank) + ": cannot " + (opts.isServer ? "serve" : "reach") +
                  " the rendezvous store at " + info.master_addr + ":" + std::to_string(info.master_port) + ": " +
                  error_text(e));
  }
}
#endif

std::string share_over_store(const RankInfo& info, const std::string& key,
                             const std::function<std::string()>& make_payload, std::chrono::milliseconds timeout) {
#ifdef MG_HAVE_TCPSTORE
  auto store = open_store(info, key, timeout);
  try {
    std::string payload;
    if (info.rank == 0) {
      payload = make_payload();
      store->set("payload", std::vector<uint8_t>(payload.begin(), payload.end()));
    } else {
      auto bytes = store->get("payload");  // waits for rank 0, up to the timeout
      payload.assign(bytes.begin(), bytes.end());
    }
    // Rank 0 may serve the store: it leaves only when every rank has read.
    store->add("read", 1);
    if (info.rank == 0) {
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (store->add("read", 0) < info.world_size) {
        if (std::chrono::steady_clock::now() > deadline)
          fail_internal("timed out waiting for every rank to read '" + key + "' from the store");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return payload;
  } catch (const c10::Error& e) {
    fail_internal("rank " + std::to_string(info.rank) + ": store at " + info.master_addr + ":" +
                  std::to_string(info.master_port) + " failed: " + error_text(e));
  }
#else
  (void)key;
  (void)make_payload;
  (void)timeout;
  fail_input("a " + info.launcher + " launch needs torch's c10d TCPStore, which this libtorch lacks");
#endif
}

}  // namespace mg::dist
