#pragma once
// Rewrites of a problem for the `equivalent` verify method: other problems whose answers, given
// by the model, vote on its samples (trainers/verifiers/equivalence.h). A task offers them by
// returning itself from Task::rewriter(); what each kind is for: docs/loop.md.
#include <climits>
#include <optional>
#include <string>
#include <vector>

namespace mg {

// A prompt whose correct answer is that of another prompt minus `offset` (a decimal number).
struct ShiftedPrompt {
  std::string prompt;
  std::string offset;
};

// One step of a split rewrite: the next problem to ask, or, once every step is answered, the
// answer to the original that the steps give. Exactly one is set.
struct SplitStep {
  std::string ask;
  std::string answer;
};

// The rewrites a task has, which a recipe's verify keys may ask for (core/recipe/recipe_parse.cpp
// refuses the rest, naming the key and the task).
struct RewriteSupport {
  int rewrites = 1;      // most same-answer rewrites per prompt (verify.rewrites)
  bool shifted = false;  // shifted rewrites (verify.shifted, verify.offset)
  bool split = false;    // split rewrites (verify.split)
};

class RewritingTask {
 public:
  virtual ~RewritingTask() = default;
  virtual RewriteSupport supports() const = 0;
  // Another prompt with the same correct answer. Rewrite 0 is the task's symmetry (b+a for
  // a+b); 1, 2, ... other problems of the same size with that answer. Deterministic in
  // (prompt, index); nullopt when there is none or the prompt is malformed.
  virtual std::optional<std::string> equivalent_prompt(const std::string& prompt, int index) const = 0;
  // A problem of the same size whose answer is this one's minus a known offset.
  // Deterministic in (prompt, index); nullopt when there is none or the prompt is malformed.
  virtual std::optional<ShiftedPrompt> shifted_prompt(const std::string& prompt, int index) const = 0;
  // The answer to `prompt` that `answer` to a shifted rewrite implies: its value plus
  // `offset` by exact arithmetic, written as `prompt`'s answers are. nullopt when `answer` is
  // malformed or too wide.
  virtual std::optional<std::string> shift_answer(const std::string& prompt, const std::string& answer,
                                                  const std::string& offset) const = 0;
  // The model's own way back from a shifted rewrite (verify.offset: model): the prompt of the
  // short sum of `answer`'s leading digits and `offset`'s ("" when the offset is zero), and
  // the model's answer to it joined above `answer`'s lower digits. nullopt when an answer is
  // malformed or too wide.
  virtual std::optional<std::string> offset_sum_prompt(const std::string& prompt, const std::string& answer,
                                                       const std::string& offset) const = 0;
  virtual std::optional<std::string> join_offset_sum(const std::string& prompt, const std::string& answer,
                                                     const std::string& offset, const std::string& sum_answer) const = 0;
  // Split rewrite `index`: the problem worked out from problems about half its size, asked
  // in turn; `answers` are the model's answers to the steps so far. Deterministic in (prompt,
  // index, answers); nullopt when there is none, the prompt is malformed or an answer cannot
  // be read.
  virtual std::optional<SplitStep> split_step(const std::string& prompt, int index,
                                              const std::vector<std::string>& answers) const = 0;
};

}  // namespace mg
