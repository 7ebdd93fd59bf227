#pragma once
// What decides a run's floating-point rounding besides its recipe and seed: the device, the
// vector instruction set torch's CPU kernels and oneMKL's matrix products were chosen for
// (measured: forcing AVX2 instead of AVX-512 in either changes the weights after 60
// pretraining steps), and the thread count. Recorded in every round's state.json, so that a
// run resumed or repeated elsewhere says why it is not bit-identical to the first.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace mg {

// {"device": "cpu" | "cuda", "cpu_capability": e.g. "AVX512", "threads": n}.
nlohmann::json numerics_here(const torch::Device& device, int threads);

// Names what differs between the numerics a round was computed with and those here, or
// nullopt when nothing does (or when the round recorded none: older runs).
std::optional<std::string> numerics_change(const nlohmann::json& recorded, const nlohmann::json& here);

}  // namespace mg
