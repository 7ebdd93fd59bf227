#pragma once
// Sanitizer options built into each executable: include this in its main file only (it defines
// functions).
// libtorch is not instrumented: it keeps allocations to process end (no leak report) and grows
// vectors that instrumented code annotated (no container-overflow report). Anything else a
// sanitizer finds aborts the process, so a test fails. Built in rather than set by the test
// runner so that the CLI a test starts gets them too; ASAN_OPTIONS / UBSAN_OPTIONS still
// override. Without a sanitizer build the runtime never calls these.

extern "C" {
__attribute__((used)) const char* __asan_default_options() {
  return "detect_leaks=0:detect_container_overflow=0:abort_on_error=1";
}
__attribute__((used)) const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }
}
