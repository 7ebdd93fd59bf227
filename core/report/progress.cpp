#include "core/report/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/log.h"

namespace mg {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[48];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return buf;
}

std::string progress_line(const std::string& label, int64_t done, int64_t total, double rate,
                          const std::string& unit, double eta_s, const std::string& extra) {
  std::string line = label + "  " + std::to_string(done);
  char buf[64];
  if (total > 0) {
    std::snprintf(buf, sizeof buf, "/%lld  %.1f%%", static_cast<long long>(total), 100.0 * done / total);
    line += buf;
  }
  // Three significant digits or so, whatever the scale.
  const char* fmt = rate >= 100 ? "  %.0f %s/s" : rate >= 10 ? "  %.1f %s/s" : "  %.2f %s/s";
  std::snprintf(buf, sizeof buf, fmt, std::isfinite(rate) ? rate : 0.0, unit.c_str());
  line += buf;
  if (eta_s >= 0) line += "  eta " + format_duration(eta_s);
  if (!extra.empty()) line += "  " + extra;
  return line;
}

Progress::Progress(std::string label, int64_t total, std::string unit, double every_s, bool enabled)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), every_s_(every_s), enabled_(enabled),
      start_(Clock::now()), last_print_(start_) {}

double Progress::elapsed_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

void Progress::update(int64_t done, const std::string& extra) {
  done_ = done;
  if (!enabled_) return;
  auto now = Clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (since < every_s_) return;
  double rate = since > 0 ? (done - done_at_last_print_) / since : 0.0;
  double eta = (total_ > 0 && rate > 0) ? std::max<double>(0.0, static_cast<double>(total_ - done)) / rate : -1.0;
  log::info(progress_line(label_, done, total_, rate, unit_, eta, extra));
  last_print_ = now;
  done_at_last_print_ = done;
  ++lines_;
}

void Progress::finish(const std::string& extra) {
  if (!enabled_ || finished_) return;
  finished_ = true;
  double t = elapsed_s();
  double rate = t > 0 ? done_ / t : 0.0;
  std::string tail = "done in " + format_duration(t);
  log::info(progress_line(label_, done_, total_, rate, unit_, -1.0, extra.empty() ? tail : tail + "  " + extra));
  ++lines_;
}

}  // namespace mg
