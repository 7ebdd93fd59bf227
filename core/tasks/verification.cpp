#include "core/tasks/verification.h"

#include <algorithm>

#include "core/errors.h"
#include "core/tasks/rng.h"

namespace mg {

Example generation_example(const Problem& p) {
  return {{p.prompt, 0.0f}, {p.answer + tok::kEnd, 1.0f}};
}

std::string verification_prefix(const std::string& prompt, const std::string& candidate) {
  return prompt + tasks::strip_end_marker(candidate) + tok::kVerify;
}

std::string cot_derivation(const Task& /*task*/, const Problem& p) {
  // The canonical answer. For arithmetic it is the unique answer; for sudoku the generator's
  // solution (verification_example uses a correct candidate itself instead, since a puzzle
  // with many holes can have several solutions).
  return p.answer;
}

int candidate_score(const Task& task, const Problem& p, const std::string& candidate) {
  if (task.grade(p.prompt, candidate)) return tok::kScoreLevels - 1;
  std::string c = tasks::strip_end_marker(candidate);
  size_t longest = std::max(c.size(), p.answer.size());
  if (longest == 0) return 0;
  size_t same = 0;
  for (size_t i = 0; i < std::min(c.size(), p.answer.size()); ++i) same += c[i] == p.answer[i];
  int k = static_cast<int>(static_cast<double>(tok::kScoreLevels - 1) * same / longest);
  return std::min(k, tok::kScoreLevels - 2);
}

Example verification_example(const Task& task, const Problem& p, const std::string& candidate,
                             const std::string& format, float verdict_weight) {
  const bool correct = task.grade(p.prompt, candidate);
  Example e{{verification_prefix(p.prompt, candidate), 0.0f}};
  if (format == "direct") {
    e.push_back({correct ? tok::kYes : tok::kNo, verdict_weight});
  } else if (format == "cot") {
    e.push_back({correct ? tasks::strip_end_marker(candidate) : cot_derivation(task, p), 1.0f});
    e.push_back({correct ? tok::kYes : tok::kNo, verdict_weight});
  } else if (format == "score") {
    e.push_back({tok::score(candidate_score(task, p, candidate)), verdict_weight});
  } else {
    fail_input("verification format '" + format + "' unknown (expected direct, cot or score)");
  }
  return e;
}

PairVerdict pair_verdict(const Task& task, const Problem& p, const std::string& first, const std::string& second) {
  const bool a = task.grade(p.prompt, first), b = task.grade(p.prompt, second);
  return a && b ? PairVerdict::Both : a ? PairVerdict::First : b ? PairVerdict::Second : PairVerdict::Neither;
}

std::string pair_prefix(const std::string& prompt, const std::string& first, const std::string& second) {
  return prompt + tasks::strip_end_marker(first) + tok::kVersus + tasks::strip_end_marker(second) + tok::kVerify;
}

Example pair_example(const Task& task, const Problem& p, const std::string& first, const std::string& second,
                     float verdict_weight) {
  const auto verdict = static_cast<size_t>(pair_verdict(task, p, first, second));
  return {{pair_prefix(p.prompt, first, second), 0.0f}, {tok::pair_specials()[verdict], verdict_weight}};
}

std::string example_text(const Example& e) {
  std::string s;
  for (const Segment& seg : e) s += seg.text;
  return s;
}

std::vector<std::string> tokenizer_corpus(const Task& task, Range difficulty, uint64_t seed, int n) {
  check(n >= 1, "tokenizer_corpus: n must be at least 1");
  std::string coverage = task.alphabet();
  for (const std::string& s : tok::all_specials()) coverage += s;
  std::vector<std::string> corpus{coverage};
  static const char* kFormats[] = {"direct", "cot", "score"};
  for (int i = 1; i < n; ++i) {
    Problem p = task.generate(seed, static_cast<uint64_t>(i), difficulty);
    int kind = i % 4;  // generation, then each verification format in turn
    if (kind == 0) {
      corpus.push_back(example_text(generation_example(p)));
    } else {
      std::string candidate = (i / 4) % 2 ? task.wrong_answer(p, tasks::problem_seed({seed, static_cast<uint64_t>(i)}))
                                          : p.answer;
      corpus.push_back(example_text(verification_example(task, p, candidate, kFormats[kind - 1], 1.0f)));
    }
  }
  return corpus;
}

}  // namespace mg
