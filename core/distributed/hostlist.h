#pragma once
// Slurm's compressed host lists ("node[01-04,07],gpu-a[1-2]-ib"), as in SLURM_JOB_NODELIST,
// expanded into host names: how an srun launch finds the node of rank 0 without asking Slurm.
#include <string>
#include <vector>

namespace mg::dist {

// Every host, in Slurm's order: comma-separated entries (commas inside brackets belong to the
// bracket), each bracket a comma-separated list of numbers and ranges lo-hi whose zero padding
// is kept ("[08-10]" gives 08, 09, 10); several brackets in one entry give every combination,
// the last bracket varying fastest. A malformed list is bad input naming `what` (the variable).
std::vector<std::string> expand_hostlist(const std::string& list, const std::string& what = "host list");

// The first host of the list, without expanding the rest.
std::string first_host(const std::string& list, const std::string& what = "host list");

}  // namespace mg::dist
