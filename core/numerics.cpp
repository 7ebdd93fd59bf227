#include "core/numerics.h"

#include <ATen/Version.h>

namespace mg {

nlohmann::json numerics_here(const torch::Device& device, int threads) {
  return {{"device", device.is_cuda() ? "cuda" : "cpu"},
          {"cpu_capability", at::get_cpu_capability()},
          {"threads", threads}};
}

std::optional<std::string> numerics_change(const nlohmann::json& recorded, const nlohmann::json& here) {
  std::string out;
  for (const char* key : {"device", "cpu_capability", "threads"}) {
    if (!recorded.contains(key) || !here.contains(key) || recorded[key] == here[key]) continue;
    if (!out.empty()) out += ", ";
    out += std::string(key) + " " + recorded[key].dump() + " there, " + here[key].dump() + " here";
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace mg
