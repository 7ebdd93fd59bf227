#include "trainers/consistency.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/errors.h"

namespace mg {

std::vector<double> consistency_scores(const std::vector<ScoredSample>& samples) {
  std::map<int, int> per_prompt;                        // prompt -> number of samples
  std::map<std::pair<int, std::string>, int> per_answer;  // (prompt, answer) -> votes
  for (const ScoredSample& s : samples) {
    ++per_prompt[s.prompt];
    ++per_answer[{s.prompt, s.answer}];
  }
  std::vector<double> scores;
  scores.reserve(samples.size());
  for (const ScoredSample& s : samples)
    scores.push_back(static_cast<double>(per_answer.at({s.prompt, s.answer})) /
                     static_cast<double>(per_prompt.at(s.prompt)));
  return scores;
}

std::vector<double> combine_scores(const std::vector<std::vector<double>>& per_method,
                                   const std::string& how) {
  if (how != "mean" && how != "and") fail_input("verify.combine: must be mean or and, got '" + how + "'");
  check(!per_method.empty(), "combine_scores: no method to combine");
  const size_t n = per_method.front().size();
  for (const auto& scores : per_method)
    check(scores.size() == n, "combine_scores: methods scored different numbers of samples");
  std::vector<double> out(per_method.front());
  for (size_t m = 1; m < per_method.size(); ++m)
    for (size_t i = 0; i < n; ++i)
      out[i] = how == "mean" ? out[i] + per_method[m][i] : std::min(out[i], per_method[m][i]);
  if (how == "mean")
    for (double& v : out) v /= static_cast<double>(per_method.size());
  return out;
}

}  // namespace mg
