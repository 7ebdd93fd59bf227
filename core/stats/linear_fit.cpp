#include "core/stats/linear_fit.h"

#include <cmath>
#include <limits>

#include "core/errors.h"

namespace mg {

LinearFit fit_line(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) fail_internal("fit_line: x and y differ in length");
  std::vector<double> xs, ys;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::isfinite(x[i]) && std::isfinite(y[i])) xs.push_back(x[i]), ys.push_back(y[i]);
  LinearFit f;
  f.points = static_cast<int>(xs.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  f.slope = f.intercept = f.r2 = nan;
  if (xs.empty()) return f;
  double mx = 0, my = 0;
  for (size_t i = 0; i < xs.size(); ++i) mx += xs[i], my += ys[i];
  mx /= xs.size();
  my /= ys.size();
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sxx += (xs[i] - mx) * (xs[i] - mx);
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) * (ys[i] - my);
  }
  if (sxx == 0) return f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  double ss_res = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double e = ys[i] - (f.intercept + f.slope * xs[i]);
    ss_res += e * e;
  }
  f.r2 = syy == 0 ? nan : 1 - ss_res / syy;
  return f;
}

}  // namespace mg
