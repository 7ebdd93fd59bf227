#pragma once
// Unbiased pass@k of one prompt with n samples of which c are correct (Chen et al. 2021):
// 1 - C(n-c, k) / C(n, k), computed as a product (no factorials, no overflow).
#include <string>

#include "core/errors.h"

namespace mg {

inline double pass_at_k(int n, int c, int k) {
  check(k >= 1 && n >= k && c >= 0 && c <= n, "pass_at_k: need 1 <= k <= n and 0 <= c <= n");
  if (n - c < k) return 1.0;  // every k-subset holds a correct sample
  // C(n-c, k) / C(n, k) = prod_{i = n-c+1}^{n} (1 - k / i).
  double all_wrong = 1.0;
  for (int i = n - c + 1; i <= n; ++i) all_wrong *= 1.0 - static_cast<double>(k) / i;
  return 1.0 - all_wrong;
}

}  // namespace mg
