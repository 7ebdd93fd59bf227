#include "core/report/metrics.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"

namespace mg {

namespace stdfs = std::filesystem;

MetricsLog::MetricsLog(stdfs::path path, bool writer) : path_(std::move(path)), writer_(writer) {
  if (!writer_) return;
  std::error_code ec;
  if (!stdfs::exists(path_, ec) || stdfs::file_size(path_, ec) == 0) return;
  std::ifstream in(path_, std::ios::binary);
  in.seekg(-1, std::ios::end);
  char last = '\n';
  if (in.get(last) && last != '\n') {
    log::warn(path_.string() + ": the last line is unfinished (killed run?); it will be skipped when read");
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << '\n';
  }
}

void MetricsLog::write(nlohmann::json record) {
  if (!writer_) return;
  check(record.is_object(), "MetricsLog::write: a record must be a JSON object");
  if (!record.contains("time")) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    record["time"] = std::chrono::duration<double>(now).count();
  }
  fs::append_line(path_, record.dump());
}

int MetricsLog::drop(const std::function<bool(const nlohmann::json&)>& stale) {
  if (!writer_ || !fs::exists(path_)) return 0;
  std::istringstream lines(fs::read_file(path_));
  std::string line, kept;
  int dropped = 0;
  while (std::getline(lines, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    bool drop_it = j.is_discarded() || !j.is_object();
    try {
      drop_it = drop_it || stale(j);
    } catch (const nlohmann::json::exception&) {  // a field of another type than ours: not our row
    }
    if (drop_it) {
      ++dropped;
      continue;
    }
    kept += line;
    kept += '\n';
  }
  if (dropped) fs::write_file_atomic(path_, kept);
  return dropped;
}

std::vector<nlohmann::json> read_metrics(const stdfs::path& path) {
  std::string text = fs::read_file(path);
  std::vector<nlohmann::json> records;
  std::istringstream lines(text);
  std::string line;
  int lineno = 0;
  while (std::getline(lines, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      log::warn(path.string() + ": line " + std::to_string(lineno) + " is not a complete record; skipped");
      continue;
    }
    records.push_back(std::move(j));
  }
  return records;
}

}  // namespace mg
