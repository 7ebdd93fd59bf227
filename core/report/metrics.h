#pragma once
// metrics.jsonl: one JSON object per line (a step summary, a stage, a round), appended and
// flushed line by line so that a killed run loses at most the line being written.
#include <filesystem>
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

namespace mg {

class MetricsLog {
 public:
  // Only the writer (rank 0) touches the file; for the others write() does nothing. A line
  // left unfinished by a killed run is terminated first, so the next record starts on its own
  // line.
  MetricsLog(std::filesystem::path path, bool writer);
  // Adds "time" (unix seconds, fractional) unless the record has one; must be a JSON object.
  void write(nlohmann::json record);
  // Removes the records `stale` selects, and any line that is not a complete record, by
  // rewriting the file atomically (only when there is something to remove); returns how many
  // lines went. A resumed run drops the rows of the work its killed predecessor did after its
  // last commit, before doing that work again: each row then appears once, whatever was killed
  // where. A no-op for a non-writer.
  int drop(const std::function<bool(const nlohmann::json&)>& stale);
  const std::filesystem::path& path() const { return path_; }
  bool writer() const { return writer_; }

 private:
  std::filesystem::path path_;
  bool writer_;
};

// Every record of the file, in order. Lines that do not parse as a JSON object (the truncated
// last line of a killed run, or such a line that a resumed run has since written after) are
// skipped with a log::warn. BadInput if the file cannot be read.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path);

}  // namespace mg
