#include "trainers/run/sample_io.h"

#include <nlohmann/json.hpp>

#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/run/manifest.h"

namespace mg {
namespace {

nlohmann::json to_record(const ScoredSample& s, bool with_score) {
  nlohmann::json j = {{"prompt", s.prompt}, {"sample", s.sample}, {"answer", s.answer}, {"correct", s.correct}};
  if (with_score) j["score"] = s.score;
  if (s.from_check) j["source"] = "check";  // absent on samples, so their rows stay as they were
  return j;
}

ScoredSample from_record(const nlohmann::json& j) {
  ScoredSample s;
  s.prompt = j.at("prompt").get<int>();
  s.sample = j.at("sample").get<int>();
  s.answer = j.at("answer").get<std::string>();
  s.correct = j.at("correct").get<bool>();
  s.score = j.value("score", 0.0);
  const std::string source = j.value("source", "sample");
  if (source != "sample" && source != "check") throw nlohmann::json::other_error::create(501, "unknown source '" + source + "'", &j);
  s.from_check = source == "check";
  return s;
}

template <class F>
void for_each_line(const std::filesystem::path& path, F&& f) {
  std::istringstream in(fs::read_file(path));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    try {
      f(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      fail_input(path.string() + ": line " + std::to_string(n) + ": corrupt record (" + e.what() + ")");
    }
  }
}

}  // namespace

void write_samples(const std::filesystem::path& path, const std::vector<ScoredSample>& samples, bool with_score) {
  std::string text;
  for (const auto& s : samples) text += to_record(s, with_score).dump() + "\n";
  fs::write_file_atomic(path, text);
}

std::vector<ScoredSample> read_samples(const std::filesystem::path& path) {
  std::vector<ScoredSample> out;
  for_each_line(path, [&](const nlohmann::json& j) { out.push_back(from_record(j)); });
  return out;
}

void write_kept(const std::filesystem::path& path, const std::vector<Kept>& kept) {
  std::string text;
  for (const auto& k : kept)
    text += nlohmann::json({{"prompt", k.prompt}, {"sample", k.sample}, {"weight", k.weight}}).dump() + "\n";
  fs::write_file_atomic(path, text);
}

std::vector<Kept> read_kept(const std::filesystem::path& path) {
  std::vector<Kept> out;
  for_each_line(path, [&](const nlohmann::json& j) {
    out.push_back({j.at("prompt").get<int>(), j.at("sample").get<int>(), j.at("weight").get<double>()});
  });
  return out;
}

std::string encode_samples(const std::vector<ScoredSample>& samples) {
  std::string text;
  for (const auto& s : samples) text += to_record(s, true).dump() + "\n";
  return text;
}

std::vector<ScoredSample> decode_samples(const std::string& bytes) {
  std::vector<ScoredSample> out;
  std::istringstream in(bytes);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(from_record(nlohmann::json::parse(line)));
  return out;
}

Candidates split_candidates(const std::vector<ScoredSample>& scored) {
  Candidates out;
  for (const auto& s : scored) (s.from_check ? out.check : out.samples).push_back(s);
  return out;
}

std::vector<ScoredSample> join_candidates(const Candidates& c) {
  std::vector<ScoredSample> all = c.samples;
  all.insert(all.end(), c.check.begin(), c.check.end());
  sort_by_prompt_sample(all);
  return all;
}

RoundKept read_round_kept(const std::filesystem::path& round_dir, const std::string& why) {
  const std::vector<std::string> files = {"scored.jsonl", "kept.jsonl"};
  for (const auto& file : files)
    if (!std::filesystem::exists(round_dir / file)) fail_input((round_dir / file).string() + ": missing (" + why + ")");
  std::string problem;
  if (!verify_manifest(round_dir, &problem, files)) fail_input(round_dir.string() + ": " + problem + " (" + why + ")");
  RoundKept out;
  out.scored = split_candidates(read_samples(round_dir / "scored.jsonl"));
  out.kept = read_kept(round_dir / "kept.jsonl");
  return out;
}

std::vector<ScoredSample> gather_samples(Communicator& comm, const std::vector<ScoredSample>& mine) {
  std::vector<ScoredSample> all;
  for (const auto& part : comm.all_gather_bytes(encode_samples(mine))) {
    auto v = decode_samples(part);
    all.insert(all.end(), v.begin(), v.end());
  }
  sort_by_prompt_sample(all);
  return all;
}

}  // namespace mg
