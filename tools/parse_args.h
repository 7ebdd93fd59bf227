#pragma once
// Command-line parsing shared by the mindgap binary and the benchmarks (CLI11): one call that
// parses and says whether to go on, with the exit codes of docs/design.md (0 after --help, 2 for bad input).
#include <CLI/CLI.hpp>

#include <optional>

namespace mg::cli {

// Parses argv into the options declared on `app`. Returns the exit code when the program should
// stop now (--help printed, or a parse error printed on stderr), else nothing.
inline std::optional<int> parse_args(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return std::nullopt;
}

}  // namespace mg::cli
