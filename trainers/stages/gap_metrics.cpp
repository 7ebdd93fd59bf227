#include "trainers/stages/gap_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include "core/errors.h"
#include "trainers/reports/round_report.h"

namespace mg {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

double within_prompt_auroc(const std::vector<ScoredSample>& samples) {
  std::map<int, std::pair<std::vector<double>, std::vector<bool>>> by_prompt;
  for (const ScoredSample& s : samples) {
    by_prompt[s.prompt].first.push_back(s.score);
    by_prompt[s.prompt].second.push_back(s.correct);
  }
  double sum = 0;
  int counted = 0;
  for (const auto& [prompt, sl] : by_prompt) {
    const auto& [scores, labels] = sl;
    const auto right = std::count(labels.begin(), labels.end(), true);
    if (right == 0 || right == static_cast<long>(labels.size())) continue;  // one class: nothing to rank
    sum += auroc(scores, labels);
    ++counted;
  }
  return counted == 0 ? kNaN : sum / counted;
}

GapMetrics gap_metrics(const std::vector<ScoredSample>& samples, const std::vector<Kept>& kept, int k) {
  if (k < 1) fail_input("pass@k: k must be >= 1, got " + std::to_string(k));
  std::map<std::pair<int, int>, const ScoredSample*> by_key;
  std::map<int, std::pair<int, int>> per_prompt;  // prompt -> (samples, correct)
  size_t correct = 0;
  for (const ScoredSample& s : samples) {
    check(by_key.emplace(std::make_pair(s.prompt, s.sample), &s).second,
          "gap_metrics: duplicate (prompt " + std::to_string(s.prompt) + ", sample " +
              std::to_string(s.sample) + ")");
    auto& [n, c] = per_prompt[s.prompt];
    ++n;
    c += s.correct ? 1 : 0;
    correct += s.correct ? 1 : 0;
  }

  GapMetrics m{};
  m.prompts = static_cast<int>(per_prompt.size());
  m.kept = static_cast<int>(kept.size());
  m.J_f = samples.empty() ? kNaN : static_cast<double>(correct) / static_cast<double>(samples.size());

  double weight_sum = 0, weight_correct = 0;
  size_t kept_correct = 0;
  std::map<std::pair<int, int>, bool> seen;
  for (const Kept& kp : kept) {
    const auto it = by_key.find({kp.prompt, kp.sample});
    check(it != by_key.end(), "gap_metrics: kept (prompt " + std::to_string(kp.prompt) + ", sample " +
                                  std::to_string(kp.sample) + ") is not among the samples");
    check(seen.emplace(it->first, true).second, "gap_metrics: a sample is kept twice");
    check(std::isfinite(kp.weight) && kp.weight >= 0, "gap_metrics: a kept weight is negative or not finite");
    weight_sum += kp.weight;
    if (it->second->correct) {
      weight_correct += kp.weight;
      ++kept_correct;
    }
  }
  m.J_filtered = weight_sum > 0 ? weight_correct / weight_sum : kNaN;
  m.gap = m.J_filtered - m.J_f;
  m.relative_gap = m.J_f == 1.0 ? 0.0 : m.gap / (1.0 - m.J_f);
  m.precision = kept.empty() ? kNaN : static_cast<double>(kept_correct) / static_cast<double>(kept.size());
  m.recall = correct == 0 ? kNaN : static_cast<double>(kept_correct) / static_cast<double>(correct);

  double pass1 = 0, passk = 0;
  for (const auto& [prompt, nc] : per_prompt) {
    const auto [n, c] = nc;
    if (n < k)
      fail_input("pass@" + std::to_string(k) + ": prompt " + std::to_string(prompt) + " has only " +
                 std::to_string(n) + " samples (improve.pass_k must be <= samples_per_prompt)");
    pass1 += static_cast<double>(c) / n;
    passk += pass_at_k(n, c, k);
  }
  m.pass1 = per_prompt.empty() ? kNaN : pass1 / static_cast<double>(per_prompt.size());
  m.passk = per_prompt.empty() ? kNaN : passk / static_cast<double>(per_prompt.size());

  std::vector<double> scores;
  std::vector<bool> labels;
  scores.reserve(samples.size());
  labels.reserve(samples.size());
  for (const ScoredSample& s : samples) {
    scores.push_back(s.score);
    labels.push_back(s.correct);
  }
  m.auroc = auroc(scores, labels);
  m.auroc_within = within_prompt_auroc(samples);
  return m;
}

nlohmann::json to_json(const GapMetrics& m) {
  // An undefined quantity is null, explicitly: nlohmann would keep a NaN as a number in the
  // object and only write it as null when dumping.
  auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return nlohmann::json{{"J_f", number(m.J_f)},
                        {"J_filtered", number(m.J_filtered)},
                        {"gap", number(m.gap)},
                        {"relative_gap", number(m.relative_gap)},
                        {"pass1", number(m.pass1)},
                        {"passk", number(m.passk)},
                        {"precision", number(m.precision)},
                        {"recall", number(m.recall)},
                        {"auroc", number(m.auroc)},
                        {"auroc_within", number(m.auroc_within)},
                        {"kept", m.kept},
                        {"prompts", m.prompts}};
}

nlohmann::json fallback_metrics(const std::vector<Kept>& kept, const Candidates& candidates) {
  std::map<std::pair<int, int>, bool> right;  // the check's candidates -> is it right
  for (const ScoredSample& a : candidates.check) right[{a.prompt, a.sample}] = a.correct;
  int answers = 0, fallback_right = 0;
  for (const Kept& k : kept) {
    auto it = right.find({k.prompt, k.sample});
    if (it == right.end()) continue;  // a sample
    ++answers;
    fallback_right += it->second ? 1 : 0;
  }
  nlohmann::json out;
  out["fallback_answers"] = answers;
  out["fallback_precision"] = answers == 0 ? nlohmann::json(nullptr) : nlohmann::json(double(fallback_right) / answers);
  return out;
}

nlohmann::json gap_record(const Recipe& recipe, int round, const GapMetrics& gap, const std::vector<Kept>& kept,
                          const Candidates& candidates) {
  nlohmann::json record = to_json(gap);
  record["round"] = round;
  record["arm"] = arm_label(recipe);
  record["control_arm"] = is_control_arm(filter_method(recipe.improve.filter.method));
  if (recipe.improve.filter.fallback == FilterFallback::Check) record.update(fallback_metrics(kept, candidates));
  return record;
}

}  // namespace mg
