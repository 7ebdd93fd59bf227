#include "core/stats/auroc.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/errors.h"

namespace mg {

double auroc(const std::vector<double>& scores, const std::vector<bool>& labels) {
  check(scores.size() == labels.size(), "auroc: scores and labels differ in length");
  const size_t n = scores.size();
  const size_t positives = static_cast<size_t>(std::count(labels.begin(), labels.end(), true));
  const size_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  for (double s : scores) check(!std::isnan(s), "auroc: a score is NaN");
  // Mann-Whitney: with tied scores sharing their average rank, the positives' rank sum minus
  // its minimum counts (positive, negative) pairs won, ties as one half.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0;
  for (size_t begin = 0; begin < n;) {
    size_t end = begin;
    while (end < n && scores[order[end]] == scores[order[begin]]) ++end;
    const double rank = 0.5 * static_cast<double>(begin + 1 + end);  // mean of ranks begin+1..end
    for (size_t j = begin; j < end; ++j)
      if (labels[order[j]]) positive_rank_sum += rank;
    begin = end;
  }
  const double p = static_cast<double>(positives);
  return (positive_rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

}  // namespace mg
