#pragma once
// Stage outputs as JSONL files in the round's directory, so a killed round resumes at the first
// stage whose file is missing: samples.jsonl (generate + grade), scored.jsonl (verify: every
// candidate, the check's answers flagged "source": "check"), kept.jsonl (filter). Written
// atomically by rank 0.
#include <filesystem>
#include <string>
#include <vector>

#include "core/distributed/communicator.h"
#include "trainers/run/scored_sample.h"

namespace mg {

void write_samples(const std::filesystem::path& path, const std::vector<ScoredSample>& samples, bool with_score);
std::vector<ScoredSample> read_samples(const std::filesystem::path& path);
void write_kept(const std::filesystem::path& path, const std::vector<Kept>& kept);
std::vector<Kept> read_kept(const std::filesystem::path& path);

// Samples as bytes, for gathering across ranks.
std::string encode_samples(const std::vector<ScoredSample>& samples);
std::vector<ScoredSample> decode_samples(const std::string& bytes);
// Every rank's samples, gathered and sorted by (prompt, sample): identical on every rank.
std::vector<ScoredSample> gather_samples(Communicator& comm, const std::vector<ScoredSample>& mine);

// A round's candidates apart: its samples, and with the equivalent check the check's answers (one per
// prompt at most, from_check). The gap and every filter see the samples alone.
struct Candidates {
  std::vector<ScoredSample> samples;
  std::vector<ScoredSample> check;
};
Candidates split_candidates(const std::vector<ScoredSample>& scored);
// Both lists as one, sorted by (prompt, sample): the rows of scored.jsonl.
std::vector<ScoredSample> join_candidates(const Candidates& candidates);

// What a committed round kept, read back by later rounds (distill.accumulate) and by `slices`:
// its scored candidates and its kept set.
struct RoundKept {
  Candidates scored;
  std::vector<Kept> kept;
};
// Only the files read are checked against the round's MANIFEST (hashing every round's weights
// again each round would grow with the run). BadInput naming the file when one is missing or
// does not match, with `why` (what the caller reads it for) appended in parentheses.
RoundKept read_round_kept(const std::filesystem::path& round_dir, const std::string& why);

}  // namespace mg
