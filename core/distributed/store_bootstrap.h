#pragma once
// The rendezvous of torchrun and srun launches: a c10d TCPStore at MASTER_ADDR:MASTER_PORT.
// The NCCL unique id travels through it, and Gloo's ranks find each other through it.
#include <chrono>
#include <exception>
#include <functional>
#include <string>

#if __has_include(<torch/csrc/distributed/c10d/TCPStore.hpp>)
#include <torch/csrc/distributed/c10d/Store.hpp>
#define MG_HAVE_TCPSTORE 1
#endif

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

#ifdef MG_HAVE_TCPSTORE
// This rank's client of the launch's store, its keys under "mindgap/<name>/<attempt>/" (a
// restarted torchrun attempt does not read the previous attempt's keys). torchrun's agent
// serves the store; without it (srun, or TORCHELASTIC_USE_AGENT_STORE unset) rank 0 serves it,
// in this object, so rank 0 must keep it until the other ranks are done with it.
c10::intrusive_ptr<c10d::Store> open_store(const RankInfo& info, const std::string& name,
                                           std::chrono::milliseconds timeout);

// A c10d error's message without its C++ backtrace; any other exception's what().
std::string error_text(const std::exception& e);
#endif

}  // namespace mg::dist
