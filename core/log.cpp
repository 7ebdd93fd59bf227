#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <set>

namespace mg::log {
namespace {

std::shared_ptr<spdlog::logger>& logger() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto l = spdlog::stderr_color_mt("mindgap");
    l->set_pattern("[%H:%M:%S] %v");
    return l;
  }();
  return instance;
}

}  // namespace

void configure(int rank, Level level, bool all_ranks) {
  auto& l = logger();
  if (rank != 0) l->set_pattern("[%H:%M:%S r" + std::to_string(rank) + "] %v");
  spdlog::level::level_enum lv = spdlog::level::info;
  switch (level) {
    case Level::Debug: lv = spdlog::level::debug; break;
    case Level::Info: lv = spdlog::level::info; break;
    case Level::Warn: lv = spdlog::level::warn; break;
    case Level::Error: lv = spdlog::level::err; break;
  }
  if (rank != 0 && !all_ranks && lv < spdlog::level::warn) lv = spdlog::level::warn;
  l->set_level(lv);
}

void debug(const std::string& message) { logger()->debug(message); }
void info(const std::string& message) { logger()->info(message); }
void warn(const std::string& message) { logger()->warn(message); }
void error(const std::string& message) { logger()->error(message); }

void warn_once(const std::string& message) {
  static std::mutex mu;
  static std::set<std::string> seen;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!seen.insert(message).second) return;
  }
  logger()->warn(message);
}

}  // namespace mg::log
