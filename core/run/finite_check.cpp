#include "core/run/finite_check.h"

#include <torch/torch.h>

namespace mg {

std::optional<std::string> first_non_finite(const NamedTensors& state) {
  std::vector<torch::Tensor> flags;
  std::vector<size_t> which;
  flags.reserve(state.size());
  for (size_t i = 0; i < state.size(); ++i) {
    const torch::Tensor& t = state[i].second;
    if (!t.defined() || !t.is_floating_point() || t.numel() == 0) continue;
    flags.push_back(torch::isfinite(t).all());
    which.push_back(i);
  }
  if (flags.empty()) return std::nullopt;
  // Each all() stays on the tensor's device; one copy back says whether any failed.
  torch::Tensor all = torch::stack(flags).to(torch::kCPU);
  if (all.all().item<bool>()) return std::nullopt;
  auto ok = all.accessor<bool, 1>();
  for (size_t k = 0; k < which.size(); ++k)
    if (!ok[static_cast<int64_t>(k)]) return state[which[k]].first;
  return std::nullopt;  // unreachable: all() was false
}

void require_finite(const NamedTensors& state, ErrorKind kind, const std::string& where, const std::string& advice) {
  if (auto name = first_non_finite(state))
    throw Error(kind, where + ": tensor '" + *name + "' holds a NaN or an infinity" + advice);
}

}  // namespace mg
