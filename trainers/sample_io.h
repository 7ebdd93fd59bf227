#pragma once
// Stage outputs as JSONL files in the round's directory, so a killed round resumes at the first
// stage whose file is missing: samples.jsonl (generate + grade), scored.jsonl (verify),
// kept.jsonl (filter). Written atomically by rank 0.
#include <filesystem>
#include <vector>

#include "trainers/filter.h"
#include "trainers/scored_sample.h"

namespace mg {

void write_samples(const std::filesystem::path& path, const std::vector<ScoredSample>& samples, bool with_score);
std::vector<ScoredSample> read_samples(const std::filesystem::path& path);
void write_kept(const std::filesystem::path& path, const std::vector<Kept>& kept);
std::vector<Kept> read_kept(const std::filesystem::path& path);

// Samples as bytes, for gathering across ranks.
std::string encode_samples(const std::vector<ScoredSample>& samples);
std::vector<ScoredSample> decode_samples(const std::string& bytes);

}  // namespace mg
