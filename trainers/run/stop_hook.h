#pragma once
// Fault injection for the resume and reliability tests, all off unless the variable is set:
// - MINDGAP_STOP_AFTER=<round>:<point> ends the process right after that point's output is on
//   disk, as a kill at that boundary would (exit 75).
// - MINDGAP_SIGNAL_AFTER=<round>:<point>[:INT] sends this process SIGTERM (or SIGINT) there,
//   as a user would at that moment; the run then stops at its next safe point.
// Points are the round's stages (generate, verify, filter, distill, metrics, commit), in
// round 0 pretraining's checkpoints ("step<N>") and logged steps ("log<N>"), and distill
// steps ("distill<N>").
// - MINDGAP_NONFINITE_AT=<stage>:<round>:<step> makes that training step's loss NaN (stage
//   pretrain or distill), as a diverging step would.
#include <csignal>
#include <cstdlib>
#include <string>

#include "core/log.h"

namespace mg {

inline void maybe_stop_after(int round, const std::string& stage) {
  const std::string here = std::to_string(round) + ":" + stage;
  const char* spec = std::getenv("MINDGAP_STOP_AFTER");
  if (spec && here == spec) {
    log::warn("stopping after round " + std::to_string(round) + " stage " + stage + " (MINDGAP_STOP_AFTER)");
    std::_Exit(75);
  }
  const char* sig = std::getenv("MINDGAP_SIGNAL_AFTER");
  if (sig) {
    const std::string s = sig;
    if (s == here) std::raise(SIGTERM);
    if (s == here + ":INT") std::raise(SIGINT);
  }
}

inline bool inject_nonfinite(const std::string& stage, int round, int step) {
  const char* spec = std::getenv("MINDGAP_NONFINITE_AT");
  return spec && std::string(spec) == stage + ":" + std::to_string(round) + ":" + std::to_string(step);
}

}  // namespace mg
