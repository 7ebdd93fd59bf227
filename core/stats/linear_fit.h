#pragma once
// Ordinary least squares of y on x, for the sweep's "relative gap against log10 FLOPs".
#include <vector>

namespace mg {

struct LinearFit {
  double slope = 0, intercept = 0;
  double r2 = 0;  // 1 - SS_res / SS_tot; NaN when every y is the same (nothing to explain)
  int points = 0;
};

// Pairs with a non-finite x or y are left out. With fewer than two distinct x left, the slope,
// intercept and r2 are NaN (no line is defined).
LinearFit fit_line(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace mg
