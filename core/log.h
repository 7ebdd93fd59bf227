#pragma once
// Logging with a plain std::string API, so that files which see torch's bundled fmt never
// include spdlog (Debian's spdlog needs Debian's fmt). The only global state of mindgap.
#include <string>

namespace mg::log {

enum class Level { Debug, Info, Warn, Error };

// Rank other than 0 logs only warnings and errors unless `all_ranks` is set.
void configure(int rank, Level level, bool all_ranks = false);
void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
// Warns the first time a message is seen in this process, and never again: for a condition that
// several steps of one command look at (a damaged round found by every lookup).
void warn_once(const std::string& message);
void error(const std::string& message);

}  // namespace mg::log
