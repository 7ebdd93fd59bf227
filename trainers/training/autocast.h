#pragma once
// bf16 autocast on CUDA for the duration of a scope (precision "bf16"); fp32 otherwise.
#include <ATen/autocast_mode.h>

#include <string>

namespace mg {

class AutocastScope {
 public:
  AutocastScope(const std::string& precision, bool cuda) : enabled_(cuda && precision == "bf16") {
    if (!enabled_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
  }
  ~AutocastScope() {
    if (!enabled_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
};

}  // namespace mg
