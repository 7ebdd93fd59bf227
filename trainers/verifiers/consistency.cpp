#include "trainers/verifiers/consistency.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/errors.h"

namespace mg {

std::vector<double> vote_shares(const std::vector<ScoredSample>& samples, const std::vector<ScoredSample>& voters) {
  std::map<int, int> per_prompt;                        // prompt -> number of voters
  std::map<std::pair<int, std::string>, int> per_answer;  // (prompt, answer) -> votes
  for (const ScoredSample& v : voters) {
    ++per_prompt[v.prompt];
    ++per_answer[{v.prompt, v.answer}];
  }
  std::vector<double> scores;
  scores.reserve(samples.size());
  for (const ScoredSample& s : samples) {
    auto votes = per_answer.find({s.prompt, s.answer});
    scores.push_back(votes == per_answer.end() ? 0.0
                                               : static_cast<double>(votes->second) /
                                                     static_cast<double>(per_prompt.at(s.prompt)));
  }
  return scores;
}

std::vector<ScoredSample> top_votes(const std::vector<ScoredSample>& voters, const std::string& unreadable) {
  std::map<int, int> per_prompt;
  std::map<std::pair<int, std::string>, int> per_answer;  // ordered: the first of equals is the smaller text
  for (const ScoredSample& v : voters) {
    ++per_prompt[v.prompt];
    if (v.answer != unreadable) ++per_answer[{v.prompt, v.answer}];
  }
  std::map<int, ScoredSample> best;
  for (const auto& [key, votes] : per_answer) {
    const double share = static_cast<double>(votes) / static_cast<double>(per_prompt.at(key.first));
    auto it = best.find(key.first);
    if (it == best.end() || share > it->second.score) best[key.first] = {key.first, 0, key.second, share, false, true};
  }
  std::vector<ScoredSample> out;
  for (auto& [p, top] : best) out.push_back(std::move(top));
  return out;
}

std::vector<double> consistency_scores(const std::vector<ScoredSample>& samples) {
  return vote_shares(samples, samples);
}

std::vector<double> combine_scores(const std::vector<std::vector<double>>& per_method,
                                   CombineBy how) {
  check(!per_method.empty(), "combine_scores: no method to combine");
  const size_t n = per_method.front().size();
  for (const auto& scores : per_method)
    check(scores.size() == n, "combine_scores: methods scored different numbers of samples");
  std::vector<double> out(per_method.front());
  for (size_t m = 1; m < per_method.size(); ++m)
    for (size_t i = 0; i < n; ++i)
      out[i] = how == CombineBy::Mean ? out[i] + per_method[m][i] : std::min(out[i], per_method[m][i]);
  if (how == CombineBy::Mean)
    for (double& v : out) v /= static_cast<double>(per_method.size());
  return out;
}

}  // namespace mg
