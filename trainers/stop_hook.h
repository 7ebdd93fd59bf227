#pragma once
// MINDGAP_STOP_AFTER=<round>:<stage> ends the process right after that stage's output is on
// disk, as a kill at that boundary would: the resume tests use it. Stages are the round's
// (generate, verify, ...) and, in round 0, pretraining's checkpoints ("step<N>").
#include <cstdlib>
#include <string>

#include "core/log.h"

namespace mg {

inline void maybe_stop_after(int round, const std::string& stage) {
  const char* spec = std::getenv("MINDGAP_STOP_AFTER");
  if (spec && std::string(spec) == std::to_string(round) + ":" + stage) {
    log::warn("stopping after round " + std::to_string(round) + " stage " + stage + " (MINDGAP_STOP_AFTER)");
    std::_Exit(75);
  }
}

}  // namespace mg
