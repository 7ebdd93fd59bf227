#pragma once
// What a round can take from disk: the stage outputs a killed run left in round-XXXX.tmp, and
// the records of committed rounds. A stage file that cannot be read is not an error to repeat
// on every rerun: it is discarded (with the stages after it) and recomputed, which gives the
// same bytes, since every stage is a function of the seeds and the previous round.
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/checkpoint.h"
#include "trainers/run/run_context.h"

namespace mg {

// The stage outputs in `writer`'s directory that a resume can use ("samples.jsonl",
// "scored.jsonl", "kept.jsonl", "model.safetensors"), each read back in full first. The first
// that fails to read (and every later one) is left out, named in a warning, and removed by
// rank 0 once every rank has looked. Collective: every rank calls it.
std::set<std::string> usable_stage_files(RunContext& ctx, const RoundWriter& writer);

// A committed improvement round's state.json as the round table and the curriculum read it:
// BadInput naming the round or the file when the round fails its MANIFEST or the record lacks
// what they need (an empty file, "{}").
nlohmann::json committed_round_record(const RunDir& run, int round);

}  // namespace mg
