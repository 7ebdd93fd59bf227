#include "trainers/reports/slices.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "core/errors.h"
#include "trainers/reports/round_report.h"

namespace mg {

namespace {

struct ByLengthThenText {
  bool operator()(const std::string& a, const std::string& b) const {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  }
};

nlohmann::json share(int part, int whole) {
  return whole > 0 ? nlohmann::json(static_cast<double>(part) / whole) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<SliceStats> slice_stats(const Task& task, const std::vector<std::string>& prompts,
                                    const Candidates& candidates, const std::vector<Kept>& kept) {
  const std::vector<ScoredSample>& samples = candidates.samples;
  auto check_prompt = [&](int p, const char* what) {
    if (p < 0 || static_cast<size_t>(p) >= prompts.size())
      fail_input(std::string(what) + " names prompt " + std::to_string(p) + ", but the round has " +
                 std::to_string(prompts.size()) + " prompts");
  };
  std::vector<std::string> slice_of(prompts.size());
  std::map<std::string, SliceStats, ByLengthThenText> by_slice;
  for (size_t p = 0; p < prompts.size(); ++p) {
    slice_of[p] = task.slice(prompts[p]);
    auto& s = by_slice[slice_of[p]];
    s.slice = slice_of[p];
    ++s.prompts;
  }
  std::map<std::pair<int, int>, bool> correct;
  std::set<int> with_right;
  for (const auto& x : samples) {
    check_prompt(x.prompt, "a sample");
    auto& s = by_slice[slice_of[static_cast<size_t>(x.prompt)]];
    ++s.samples;
    correct[{x.prompt, x.sample}] = x.correct;
    if (x.correct) {
      ++s.right;
      with_right.insert(x.prompt);
    }
  }
  std::map<std::pair<int, int>, bool> check_right;  // the check's candidates
  for (const auto& a : candidates.check) check_right[{a.prompt, a.sample}] = a.correct;
  std::set<int> with_right_kept;
  for (const auto& k : kept) {
    check_prompt(k.prompt, "a kept entry");
    if (auto answer = check_right.find({k.prompt, k.sample}); answer != check_right.end()) {
      auto& s = by_slice[slice_of[static_cast<size_t>(k.prompt)]];
      ++s.fallback;
      s.fallback_right += answer->second ? 1 : 0;
      continue;
    }
    auto it = correct.find({k.prompt, k.sample});
    if (it == correct.end())
      fail_input("kept sample (" + std::to_string(k.prompt) + ", " + std::to_string(k.sample) +
                 ") is not among the round's samples");
    auto& s = by_slice[slice_of[static_cast<size_t>(k.prompt)]];
    ++s.kept;
    if (it->second) {
      ++s.kept_right;
      with_right_kept.insert(k.prompt);
    }
  }
  for (int p : with_right) ++by_slice[slice_of[static_cast<size_t>(p)]].prompts_with_right;
  for (int p : with_right_kept) ++by_slice[slice_of[static_cast<size_t>(p)]].prompts_with_right_kept;
  std::vector<SliceStats> out;
  for (auto& [label, s] : by_slice) out.push_back(s);
  return out;
}

nlohmann::json to_json(const SliceStats& s) {
  return {{"slice", s.slice},
          {"prompts", s.prompts},
          {"samples", s.samples},
          {"right", s.right},
          {"kept", s.kept},
          {"kept_right", s.kept_right},
          {"prompts_with_right", s.prompts_with_right},
          {"prompts_with_right_kept", s.prompts_with_right_kept},
          {"fallback", s.fallback},
          {"fallback_right", s.fallback_right},
          {"J_f", share(s.right, s.samples)},
          {"precision", share(s.kept_right, s.kept)},
          {"prompts_right_share", share(s.prompts_with_right, s.prompts)},
          {"prompts_right_kept_share", share(s.prompts_with_right_kept, s.prompts)}};
}

std::string format_slice_table(const std::vector<nlohmann::json>& records) {
  std::string out = "\n";
  char line[512];
  // "any right": the share of the slice's prompts with a right sample, the most a filter can
  // give it; "right kept": the share with a right example kept.
  // "fallback": the check's answers trained on where nothing was kept (filter.fallback check),
  // and how many right.
  std::snprintf(line, sizeof line, "%5s %-10s %-18s %7s %6s %6s %6s %9s %10s %13s\n", "round", "difficulty", "slice",
                "prompts", "J(f)", "kept", "right", "any right", "right kept", "fallback/right");
  out += line;
  for (const auto& r : records) {
    std::string d = "-";
    if (r.contains("difficulty") && r["difficulty"].is_array() && r["difficulty"].size() == 2) {
      int lo = r["difficulty"][0].get<int>(), hi = r["difficulty"][1].get<int>();
      d = lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
    }
    const std::string fallback =
        std::to_string(r.value("fallback", 0)) + "/" + std::to_string(r.value("fallback_right", 0));
    std::snprintf(line, sizeof line, "%5d %-10s %-18s %7d %6s %6d %6s %9s %10s %13s\n", r.value("round", 0), d.c_str(),
                  r.value("slice", std::string("?")).c_str(), r.value("prompts", 0), table_cell(r, "J_f").c_str(),
                  r.value("kept", 0), table_cell(r, "precision").c_str(), table_cell(r, "prompts_right_share").c_str(),
                  table_cell(r, "prompts_right_kept_share").c_str(), fallback.c_str());
    out += line;
  }
  return out;
}

}  // namespace mg
