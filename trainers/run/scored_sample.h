#pragma once
// The record that travels between the model-free stages of a round: generate fills
// prompt/sample/answer, verify fills score, the exact grader fills correct. Filters and
// metrics read it; only the oracle filter and the metrics may look at `correct`.
// A prompt's candidates are its samples 0..N-1 and, with the equivalent check, the check's own answer
// as candidate N (from_check; its score is the share of the check's votes it got).
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

namespace mg {

struct ScoredSample {
  int prompt = 0;        // index of the prompt within the round
  int sample = 0;        // index of the sample within its prompt
  std::string answer;    // the model's answer text
  double score = 0;      // self-verification score u_f (higher = more trusted);
                         // in [0, 1] for every verify method
  bool correct = false;  // the exact grader's label: used for metrics and by the oracle filter ONLY
  bool from_check = false;  // the check's answer (the threshold filter's fallback), not a sample
};

// One filtered training example: which candidate, and how much it weighs in the distillation loss.
struct Kept {
  int prompt;
  int sample;
  double weight;
};

// The order of every stage file and every gathered list: by prompt, then sample.
struct ByPromptSample {
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::tie(a.prompt, a.sample) < std::tie(b.prompt, b.sample);
  }
};

template <class T>
void sort_by_prompt_sample(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), ByPromptSample{});
}

}  // namespace mg
