#pragma once
// A task: a generator of problems with an exact grader. The grader is the oracle J of the
// design; the model never sees it during training (only the `oracle` control arm does).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/recipe.h"
#include "core/tasks/example.h"

namespace mg {

// A prompt whose correct answer is that of another prompt minus `offset` (a decimal number).
struct ShiftedPrompt {
  std::string prompt;
  std::string offset;
};

// One step of a split rewrite (Task::split_step): the next problem to ask, or, once every
// step is answered, the answer to the original that the steps give. Exactly one is set.
struct SplitStep {
  std::string ask;
  std::string answer;
};

struct Problem {
  std::string prompt;  // e.g. "62+85="
  std::string answer;  // canonical correct answer text, no end marker, e.g. "741"
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // Deterministic in (seed, index): the same problem whatever the batch, rank or call order.
  virtual Problem generate(uint64_t seed, uint64_t index, Range difficulty) const = 0;
  // Exact grader: true iff `answer` (model output text, possibly garbage) is a correct answer
  // to `prompt`. One trailing end marker (tok::kEnd) is tolerated. Never throws.
  virtual bool grade(const std::string& prompt, const std::string& answer) const = 0;
  // A realistic wrong answer (digit changed, carry dropped, +-10^k, cell swapped...), never
  // correct, same length/format when possible. Deterministic in (p, seed).
  virtual std::string wrong_answer(const Problem& p, uint64_t seed) const = 0;
  // The largest number of characters of prompt+answer at a difficulty (for max_seq checks).
  virtual int max_chars(Range difficulty) const = 0;
  // Every character a prompt or answer of this task can contain (the tokenizer must know
  // each one, even if a small corpus happens to miss it).
  virtual std::string alphabet() const = 0;
  // Another prompt with the same correct answer, for the `equivalent` verify method: a model
  // whose mistakes come from how a problem is written makes different ones on the rewritten
  // problem. Rewrite 0 is the task's symmetry (b+a for a+b); rewrites 1, 2, ... are other
  // problems of the same size with the same answer, where the task has them (addition:
  // another split of the same sum), deterministic in (prompt, index). nullopt when the task
  // has no such rewrite or the prompt is malformed.
  virtual std::optional<std::string> equivalent_prompt(const std::string& prompt, int index) const {
    (void)prompt;
    (void)index;
    return std::nullopt;
  }
  // A problem of the same size whose answer is this one's minus a known offset, for the
  // `equivalent` method's shifted rewrites (verify.shifted): addition lowers the leading
  // digit of each operand, so that the rewrite seldom carries into a new digit, then splits
  // that smaller sum another way. Deterministic in (prompt, index); nullopt when the task
  // has none or the prompt is malformed.
  virtual std::optional<ShiftedPrompt> shifted_prompt(const std::string& prompt, int index) const {
    (void)prompt;
    (void)index;
    return std::nullopt;
  }
  // The answer to `prompt` that `answer`, given to a shifted rewrite of it, implies: its value
  // plus `offset`, written as `prompt`'s answers are written. This is one exact addition of
  // a known number to the model's own answer: no grader is consulted, but the carry it makes
  // is not the model's. nullopt when `answer` is not a well-formed answer or too wide.
  virtual std::optional<std::string> shift_answer(const std::string& prompt, const std::string& answer,
                                                  const std::string& offset) const {
    (void)prompt;
    (void)answer;
    (void)offset;
    return std::nullopt;
  }
  // The model's own way back from a shifted rewrite (verify.offset: model). Adding an offset
  // whose digits below position k are zero leaves an answer's digits below k as they are; the
  // digits from k up become the sum of the answer's digits from k up and the offset's. That
  // sum is a smaller problem of the same task, which a model trained on short problems can
  // answer: offset_sum_prompt is its prompt ("" when the offset is zero, as nothing is to be
  // added), and join_offset_sum puts the model's answer to it above `answer`'s lower digits.
  // Only the place-value rule is the check's; every digit is the model's. nullopt when
  // `answer` or `sum_answer` is malformed or too wide, or the task has no shifted rewrites.
  virtual std::optional<std::string> offset_sum_prompt(const std::string& prompt, const std::string& answer,
                                                       const std::string& offset) const {
    (void)prompt;
    (void)answer;
    (void)offset;
    return std::nullopt;
  }
  virtual std::optional<std::string> join_offset_sum(const std::string& prompt, const std::string& answer,
                                                     const std::string& offset, const std::string& sum_answer) const {
    (void)prompt;
    (void)answer;
    (void)offset;
    (void)sum_answer;
    return std::nullopt;
  }
  // A split rewrite (verify.split): the problem worked out from problems about half its
  // size, each asked of the model in turn, so that a model one digit past its training
  // lengths checks a long answer with problems within them. Addition splits the operands at
  // digit k (half their length): the sum of their lower parts, then, if that sum carries, the
  // upper part of a plus the carry, then that plus the upper part of b; the answer is the
  // last sum written above the lower sum's digits below k. `answers` are the model's answers
  // to the steps asked so far (none for step 0). Only the place-value rule and the order of
  // the steps are the check's; every sum is the model's. Rewrite 0 splits the operands as
  // they are; rewrite k >= 1 splits at the other half where the length is odd, and writes
  // each step's sum another way (another split of the same sum), deterministic in (prompt,
  // k, answers). A one-digit problem is its own one step. nullopt when the task has no split
  // rewrites, the prompt is malformed, or an answer cannot be read.
  virtual std::optional<SplitStep> split_step(const std::string& prompt, int index,
                                              const std::vector<std::string>& answers) const {
    (void)prompt;
    (void)index;
    (void)answers;
    return std::nullopt;
  }
  // The part of the problems a prompt belongs to, so that a report can show where a filter
  // keeps answers and where it drops them (`mindgap slices`). Addition and multiplication:
  // how many digits the exact result has ("5-digit result"); one digit past the training
  // lengths, a sum one digit longer than its operands is one that carries into a new digit,
  // the step such a model finds hardest. "all" where a task has no parts.
  virtual std::string slice(const std::string& prompt) const {
    (void)prompt;
    return "all";
  }
};

// addition | multiplication | sudoku; BadInput for an unknown name or a bad setting.
std::unique_ptr<Task> make_task(const TaskConfig& config);

namespace tasks {
// Removes one trailing tok::kEnd, if present (graders accept an answer with or without it).
std::string strip_end_marker(const std::string& answer);
}  // namespace tasks

}  // namespace mg
