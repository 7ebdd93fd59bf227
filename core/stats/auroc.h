#pragma once
// The area under the ROC curve: how well a score ranks positives above negatives. Used for the
// verifier against the exact grader (gap metrics) and for held-out verdicts.
#include <vector>

namespace mg {

// The probability that a random positive scores above a random negative, ties counting one
// half; 0.5 when one class is absent. O(n log n).
double auroc(const std::vector<double>& scores, const std::vector<bool>& labels);

}  // namespace mg
