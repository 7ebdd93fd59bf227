#pragma once
// The examples the model pretrains and distils on, and the text it is shown when it judges
// its own answer. Layouts (no spaces; special tokens literal):
//   generation  "62+85=" (0) | "741<eoa>" (1)
//   direct      "62+85=751<verify>" (0) | "<no>" (verdict_weight)
//   cot         "62+85=751<verify>" (0) | "741" (1) | "<no>" (verdict_weight)
//   score       "62+85=751<verify>" (0) | "<s6>" (verdict_weight)
//   pair        "62+85=741<vs>751<verify>" (0) | "<second>" (verdict_weight)
// In `cot` the model first re-derives the answer itself, then compares: the verdict is a
// comparison of two strings it has just written, easier to learn than judging in one step.
#include <string>
#include <vector>

#include "core/tasks/task.h"

namespace mg {

// Generation example: prompt (weight 0) + answer + kEnd (weight 1).
Example generation_example(const Problem& p);

// Verification example for (prompt, candidate); format "direct", "cot" or "score" (BadInput
// otherwise). The verdict is the exact grader's.
Example verification_example(const Task& task, const Problem& p, const std::string& candidate,
                             const std::string& format, float verdict_weight);

// What the model is given when it verifies: prompt + candidate + kVerify (one trailing end
// marker of the candidate is dropped, so raw decoded samples can be passed).
std::string verification_prefix(const std::string& prompt, const std::string& candidate);

// The pairwise format: which of two candidates is right, as the index of its token in
// tok::pair_specials() (kFirst 1, kSecond 2, kBoth 3, kNeither 4; 0 is the separator).
enum class PairVerdict { First = 1, Second = 2, Both = 3, Neither = 4 };
PairVerdict pair_verdict(const Task& task, const Problem& p, const std::string& first, const std::string& second);
// prompt + first + kVersus + second + kVerify (end markers dropped as above).
std::string pair_prefix(const std::string& prompt, const std::string& first, const std::string& second);
// The pairwise example of (first, second); the verdict is the exact grader's.
Example pair_example(const Task& task, const Problem& p, const std::string& first, const std::string& second,
                     float verdict_weight);

// The cot derivation for a prompt: the canonical answer (the solved grid for sudoku).
std::string cot_derivation(const Task& task, const Problem& p);

// The score level 0..9 of a candidate: 9 iff correct, else floor(9 * share of answer
// positions the candidate matches), at most 8.
int candidate_score(const Task& task, const Problem& p, const std::string& candidate);

// A corpus for training the tokenizer: n texts (n >= 1) of the task's examples in every
// format, the first a line holding every character of the task and every special token.
std::vector<std::string> tokenizer_corpus(const Task& task, Range difficulty, uint64_t seed, int n);

// The concatenated text of an example.
std::string example_text(const Example& e);

}  // namespace mg
