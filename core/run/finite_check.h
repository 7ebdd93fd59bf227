#pragma once
// Weights must be finite: a NaN or an infinity in one tensor spreads to every activation, so a
// round trained from it has nothing but NaN weights (and eval fails far from the cause). The
// loader refuses such a checkpoint as bad input; the writers refuse to commit one.
#include <optional>
#include <string>

#include "core/errors.h"
#include "core/run/safetensors.h"

namespace mg {

// The name of the first floating-point tensor of `state` (in its order) that holds a NaN or an
// infinity; nullopt when every one is finite. One device sync for the whole state.
std::optional<std::string> first_non_finite(const NamedTensors& state);

// Throws Error(kind, "<where>: tensor '<name>' holds a NaN or an infinity<advice>") when a
// tensor of `state` is not finite. `advice` follows the message as it is (e.g. "; ...").
void require_finite(const NamedTensors& state, ErrorKind kind, const std::string& where,
                    const std::string& advice = "");

}  // namespace mg
