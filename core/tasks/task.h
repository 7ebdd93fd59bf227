#pragma once
// A task: a generator of problems with an exact grader. The grader is the oracle J of the
// design; the model never sees it during training (only the `oracle` control arm does).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/tasks/example.h"

namespace mg {

class RewritingTask;

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
  // The recipe key that sets this task's difficulty: "digits" or "holes" (task.<key>,
  // improve.curriculum.<key>).
  virtual std::string difficulty_key() const = 0;
  // The task's rewrites for the `equivalent` verify method; nullptr when it has none.
  virtual const RewritingTask* rewriter() const { return nullptr; }
  // The part of the problems a prompt belongs to, so that `mindgap slices` can show where a
  // filter keeps answers and where it drops them; "all" where a task has no parts.
  virtual std::string slice(const std::string& prompt) const {
    (void)prompt;
    return "all";
  }
};

// addition | multiplication | sudoku; BadInput for an unknown name or a bad setting.
std::unique_ptr<Task> make_task(const TaskConfig& config);

// The configured task's difficulty key (Task::difficulty_key) and its range in `config`
// (task.digits or task.holes).
std::string difficulty_key(const TaskConfig& config);
Range base_difficulty(const TaskConfig& config);

namespace tasks {
// Removes one trailing tok::kEnd, if present (graders accept an answer with or without it).
std::string strip_end_marker(const std::string& answer);
}  // namespace tasks

}  // namespace mg
