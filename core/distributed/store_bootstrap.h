#pragma once
// Handing a small blob from rank 0 to every rank without MPI, through a c10d TCPStore at
// MASTER_ADDR:MASTER_PORT: how the NCCL unique id travels under torchrun-style launches.
#include <chrono>
#include <functional>
#include <string>

#include "core/distributed/rank_env.h"

namespace mg::dist {

// Whether this libtorch has c10d's TCPStore.
bool have_tcp_store();

// Rank 0 calls make_payload and publishes the result under `key`; every rank returns it.
// torchrun's agent already serves a store at MASTER_ADDR:MASTER_PORT
// (TORCHELASTIC_USE_AGENT_STORE=True); otherwise rank 0 serves it until every rank has read.
std::string share_over_store(const RankInfo& info, const std::string& key,
                             const std::function<std::string()>& make_payload,
                             std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace mg::dist
