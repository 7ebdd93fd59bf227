#pragma once
// One exception type for everything a user should read: caught once in main, printed as
// "error: <message>", exit code 2 for bad input and 1 for an internal failure; a run stopped by
// SIGINT or SIGTERM at a safe point exits 130 or 143, as a shell reports those signals.
#include <stdexcept>
#include <string>

namespace mg {

enum class ErrorKind { BadInput = 2, Internal = 1, Interrupted = 130, Terminated = 143 };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return static_cast<int>(kind_); }
  // Stopped on request (a signal), not failed.
  bool stopped() const { return kind_ == ErrorKind::Interrupted || kind_ == ErrorKind::Terminated; }

 private:
  ErrorKind kind_;
};

// Bad input from the user: a recipe, a file, a checkpoint, a launch configuration.
[[noreturn]] inline void fail_input(const std::string& message) {
  throw Error(ErrorKind::BadInput, message);
}
// Something that should not happen whatever the user did.
[[noreturn]] inline void fail_internal(const std::string& message) {
  throw Error(ErrorKind::Internal, message);
}

// Checks an invariant; `what` names it for the message.
inline void check(bool ok, const std::string& what) {
  if (!ok) fail_internal(what);
}

}  // namespace mg
