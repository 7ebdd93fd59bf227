#include "trainers/stages/filter.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <utility>

#include "core/errors.h"

namespace mg {
namespace {

// keep * n can land a hair above an integer (0.3 * 10 = 3.0000000000000004); without the
// slack ceil would keep one sample too many.
constexpr double kRoundingSlack = 1e-9;

using Key = std::pair<int, int>;  // (prompt, sample)

Key key_of(const ScoredSample& s) { return {s.prompt, s.sample}; }

// The method to run, once the config is known to be usable.
FilterMethod validate_config(const FilterConfig& c) {
  const FilterMethod method = filter_method(c.method);
  if (method == FilterMethod::Quantile && !(c.keep > 0.0 && c.keep <= 1.0))
    fail_input("filter.keep: must be in (0, 1], got " + std::to_string(c.keep));
  if (method == FilterMethod::Reweight && !(c.temperature > 0.0 && std::isfinite(c.temperature)))
    fail_input("filter.temperature: must be > 0, got " + std::to_string(c.temperature));
  if (method == FilterMethod::Threshold && !std::isfinite(c.threshold))
    fail_input("filter.threshold: must be a finite number");
  return method;
}

// Indices of `samples` sorted by (prompt, sample), after checking the pairs are unique and,
// where the method reads them, that the scores are numbers.
std::vector<size_t> sorted_order(const std::vector<ScoredSample>& samples, bool need_scores) {
  std::vector<size_t> order(samples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ByPromptSample{}(samples[a], samples[b]); });
  for (size_t i = 0; i < order.size(); ++i) {
    const ScoredSample& s = samples[order[i]];
    check(s.prompt >= 0 && s.sample >= 0, "filter: negative prompt or sample index");
    if (i > 0)
      check(key_of(samples[order[i - 1]]) != key_of(s),
            "filter: duplicate (prompt " + std::to_string(s.prompt) + ", sample " +
                std::to_string(s.sample) + ")");
    if (need_scores)
      check(std::isfinite(s.score), "filter: score of (prompt " + std::to_string(s.prompt) +
                                        ", sample " + std::to_string(s.sample) + ") is not finite");
  }
  return order;
}

// Runs of `order` that share a prompt, as [begin, end) positions.
std::vector<std::pair<size_t, size_t>> prompt_groups(const std::vector<ScoredSample>& samples,
                                                     const std::vector<size_t>& order) {
  std::vector<std::pair<size_t, size_t>> groups;
  size_t begin = 0;
  for (size_t i = 1; i <= order.size(); ++i) {
    if (i == order.size() || samples[order[i]].prompt != samples[order[begin]].prompt) {
      groups.emplace_back(begin, i);
      begin = i;
    }
  }
  return groups;
}

size_t quantile_count(double keep, size_t n) {
  if (n == 0) return 0;
  const auto count = static_cast<size_t>(std::ceil(keep * static_cast<double>(n) - kRoundingSlack));
  return std::clamp<size_t>(count, 1, n);
}

// The `count` best of `idx` by score; `idx` is in (prompt, sample) order and the sort is
// stable, so ties go to the smaller (prompt, sample).
std::vector<size_t> top_by_score(const std::vector<ScoredSample>& samples, std::vector<size_t> idx,
                                 size_t count) {
  std::stable_sort(idx.begin(), idx.end(),
                   [&](size_t a, size_t b) { return samples[a].score > samples[b].score; });
  idx.resize(std::min(count, idx.size()));
  return idx;
}

// Softmax of score / temperature over `idx`, scaled so that the weights average 1.
void add_reweighted(const std::vector<ScoredSample>& samples, const std::vector<size_t>& idx,
                    double temperature, std::vector<Kept>& out) {
  if (idx.empty()) return;
  double top = samples[idx[0]].score;
  for (size_t i : idx) top = std::max(top, samples[i].score);
  std::vector<double> e(idx.size());
  double sum = 0;
  for (size_t j = 0; j < idx.size(); ++j) {
    e[j] = std::exp((samples[idx[j]].score - top) / temperature);  // the top one gives 1: no 0/0
    sum += e[j];
  }
  const double scale = static_cast<double>(idx.size()) / sum;
  for (size_t j = 0; j < idx.size(); ++j)
    out.push_back({samples[idx[j]].prompt, samples[idx[j]].sample, e[j] * scale});
}

}  // namespace

std::vector<Kept> filter_samples(const std::vector<ScoredSample>& samples, const FilterConfig& config) {
  const FilterMethod method = validate_config(config);
  // The control arms read no score.
  const std::vector<size_t> order = sorted_order(samples, !is_control_arm(method));
  const auto groups = prompt_groups(samples, order);
  auto group_indices = [&](const std::pair<size_t, size_t>& g) {
    return std::vector<size_t>(order.begin() + static_cast<long>(g.first),
                               order.begin() + static_cast<long>(g.second));
  };
  auto keep_one = [&](std::vector<Kept>& out, size_t i) {
    out.push_back({samples[i].prompt, samples[i].sample, 1.0});
  };

  std::vector<Kept> kept;
  switch (method) {
  case FilterMethod::None:
  case FilterMethod::Oracle:
  case FilterMethod::Threshold:
    for (size_t i : order) {
      const ScoredSample& s = samples[i];
      const bool take = method == FilterMethod::None     ? true
                        : method == FilterMethod::Oracle ? s.correct
                                                         : s.score >= config.threshold;
      if (take) keep_one(kept, i);
    }
    break;
  case FilterMethod::BestOfN:
    for (const auto& g : groups) keep_one(kept, top_by_score(samples, group_indices(g), 1).front());
    break;
  case FilterMethod::Quantile:
    if (config.scope == FilterScope::Global) {
      for (size_t i : top_by_score(samples, order, quantile_count(config.keep, order.size())))
        keep_one(kept, i);
    } else {
      for (const auto& g : groups) {
        const auto idx = group_indices(g);
        for (size_t i : top_by_score(samples, idx, quantile_count(config.keep, idx.size())))
          keep_one(kept, i);
      }
    }
    break;
  case FilterMethod::Reweight:
    if (config.scope == FilterScope::Global) {
      add_reweighted(samples, order, config.temperature, kept);
    } else {
      for (const auto& g : groups) add_reweighted(samples, group_indices(g), config.temperature, kept);
    }
    break;
  }
  sort_by_prompt_sample(kept);
  return config.dedup ? dedup_kept(samples, kept) : kept;
}

std::vector<Kept> dedup_kept(const std::vector<ScoredSample>& samples, const std::vector<Kept>& kept) {
  std::map<Key, const std::string*> answers;
  for (const ScoredSample& s : samples) answers[key_of(s)] = &s.answer;
  std::vector<Kept> sorted = kept;
  sort_by_prompt_sample(sorted);
  std::set<std::pair<int, std::string>> seen;  // (prompt, answer) already kept
  std::vector<Kept> out;
  for (const Kept& k : sorted) {
    const auto it = answers.find({k.prompt, k.sample});
    check(it != answers.end(), "dedup: kept (prompt " + std::to_string(k.prompt) + ", sample " +
                                   std::to_string(k.sample) + ") is not among the samples");
    if (seen.emplace(k.prompt, *it->second).second) out.push_back(k);
  }
  return out;
}

std::vector<Kept> fallback_answers(const std::vector<Kept>& kept, const Candidates& candidates, double threshold) {
  std::set<int> has_kept;
  for (const Kept& k : kept) has_kept.insert(k.prompt);
  std::vector<Kept> out;
  for (const ScoredSample& a : candidates.check) {
    mg::check(a.from_check, "fallback_answers: candidate (" + std::to_string(a.prompt) + ", " + std::to_string(a.sample) +
                                ") is not the check's answer");
    if (!has_kept.count(a.prompt) && a.score >= threshold) out.push_back({a.prompt, a.sample, 1.0});
  }
  std::sort(out.begin(), out.end(), [](const Kept& x, const Kept& y) { return x.prompt < y.prompt; });
  return out;
}

Filtered filter_round(const Candidates& candidates, const FilterConfig& config) {
  const std::vector<ScoredSample>& samples = candidates.samples;
  FilterConfig no_dedup = config;
  no_dedup.dedup = false;
  Filtered out;
  out.selected = filter_samples(samples, no_dedup);
  out.kept = config.dedup ? dedup_kept(samples, out.selected) : out.selected;
  // Adopted answers come after the samples; the gap is the samples' alone.
  if (config.fallback == FilterFallback::Check)
    for (const Kept& a : fallback_answers(out.kept, candidates, config.threshold)) out.kept.push_back(a);
  return out;
}

bool is_control_arm(const std::string& filter_method) {
  for (const auto& [method, name] : kFilterMethods)
    if (name == filter_method) return is_control_arm(method);
  return false;
}

}  // namespace mg
