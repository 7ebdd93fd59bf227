#pragma once
// The state.json of a committed round, as a resumed run reads it back to report the round it
// skips: checked against the round's MANIFEST first, so that a file damaged on disk gives one
// clear BadInput naming it instead of an internal JSON error.
#include <string>

#include <nlohmann/json.hpp>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/manifest.h"
#include "core/run_dir.h"

namespace mg {

inline nlohmann::json read_committed_state(const RunDir& run, int round) {
  const auto dir = run.round(round);
  std::string problem;
  if (!verify_manifest(dir, &problem, {"state.json"}))
    fail_input((dir / "state.json").string() + " is damaged (" + problem + "): restore it, or remove " +
               dir.filename().string() + " and the rounds after it to have them computed again");
  return load_state(dir / "state.json");
}

}  // namespace mg
