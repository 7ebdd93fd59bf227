#pragma once
// The backends behind make_communicator (internal to core/distributed).
#include <memory>

#include "core/distributed/communicator.h"

namespace mg::dist {

std::unique_ptr<Communicator> make_single_communicator();
#ifdef MINDGAP_HAVE_MPI
std::unique_ptr<Communicator> make_mpi_communicator(const RankInfo& info, double timeout_s);
#endif
#ifdef MINDGAP_HAVE_GLOO
std::unique_ptr<Communicator> make_gloo_communicator(const RankInfo& info, double timeout_s);
#endif
#ifdef MINDGAP_HAVE_NCCL
std::unique_ptr<Communicator> make_nccl_communicator(const RankInfo& info, const torch::Device& device,
                                                     double timeout_s);
#endif

// "rank 1" / "ranks 0, 3" for messages.
std::string name_ranks(const std::vector<int>& ranks);

}  // namespace mg::dist
