#pragma once
// Progress lines for long loops, through log::info:
//   "pretrain  400/2000  20.0%  31.2 steps/s  eta 51s  loss 1.234"
// printed at most every `every_s` seconds and once more by finish().
#include <chrono>
#include <cstdint>
#include <string>

namespace mg {

class Progress {
 public:
  // total <= 0 means unknown: the line then has no percentage and no eta.
  Progress(std::string label, int64_t total, std::string unit = "steps", double every_s = 5.0,
           bool enabled = true);
  // `done` units are complete. The rate is measured since the previous printed line, so the
  // eta follows the current speed rather than a slow start.
  void update(int64_t done, const std::string& extra = "");
  // The closing line: the last `done`, the average rate and the time taken.
  void finish(const std::string& extra = "");
  double elapsed_s() const;
  int lines_printed() const { return lines_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_, unit_;
  int64_t total_;
  double every_s_;
  bool enabled_;
  Clock::time_point start_, last_print_;
  int64_t done_ = 0, done_at_last_print_ = 0;
  int lines_ = 0;
  bool finished_ = false;
};

// "45s", "1m02s", "2h05m07s" (negative or non-finite: "?").
std::string format_duration(double seconds);
// One progress line as Progress prints it; eta_s < 0 leaves the eta out.
std::string progress_line(const std::string& label, int64_t done, int64_t total, double rate,
                          const std::string& unit, double eta_s, const std::string& extra);

}  // namespace mg
