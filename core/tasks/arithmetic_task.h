#pragma once
// What addition and multiplication share: prompts "a<op>b=", operand lengths drawn from the
// difficulty range, a fixed-width answer, an exact grader that recomputes the answer from the
// prompt, and near-miss wrong answers. Operands may be written as they are ("62+5=") or
// least significant digit first and zero-padded to a fixed width ("2600+5000=" for pad 4):
// the layout in which length generalisation is learnable (see TaskConfig).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tasks/rewriting_task.h"
#include "core/tasks/rng.h"
#include "core/tasks/task.h"

namespace mg::tasks {

struct ArithmeticFormat {
  bool reverse_answer = true;
  bool reverse_operands = false;
  int pad_to = 0;  // operands zero-padded to this many digits; 0: as they are
};

// The rewrites (RewritingTask) are implemented in arithmetic_rewrites.cpp: the swap for both
// operations, and addition's same-sum, shifted, offset and split rewrites.
class ArithmeticTask : public Task, public RewritingTask {
 public:
  explicit ArithmeticTask(ArithmeticFormat format) : format_(format) {}

  Problem generate(uint64_t seed, uint64_t index, Range difficulty) const override;
  bool grade(const std::string& prompt, const std::string& answer) const override;
  std::string wrong_answer(const Problem& p, uint64_t seed) const override;
  std::string alphabet() const override { return std::string("0123456789=") + op(); }
  std::string difficulty_key() const override { return "digits"; }
  const RewritingTask* rewriter() const override { return this; }

  // Only the swapped operands; AdditionTask offers every rewrite.
  RewriteSupport supports() const override { return {}; }
  // Rewrite 0: both operations commute, "b<op>a=" for "a<op>b=", operands as written.
  // Rewrite k >= 1: the operands that resplit() gives, written as wide as the originals.
  std::optional<std::string> equivalent_prompt(const std::string& prompt, int index) const override;
  // The operands that lower() gives, split again by resplit() where the operation has it,
  // written as wide as the originals.
  std::optional<ShiftedPrompt> shifted_prompt(const std::string& prompt, int index) const override;
  std::optional<std::string> shift_answer(const std::string& prompt, const std::string& answer,
                                          const std::string& offset) const override;
  // Addition only: the smaller problem is an addition, written as this task writes prompts.
  std::optional<std::string> offset_sum_prompt(const std::string& prompt, const std::string& answer,
                                               const std::string& offset) const override;
  std::optional<std::string> join_offset_sum(const std::string& prompt, const std::string& answer,
                                             const std::string& offset, const std::string& sum_answer) const override;
  // Addition only: the steps' problems are additions, written as this task writes prompts.
  std::optional<SplitStep> split_step(const std::string& prompt, int index,
                                      const std::vector<std::string>& answers) const override;

  // "N-digit result", N the significant digits of the exact result; "malformed" for a prompt
  // that does not parse.
  std::string slice(const std::string& prompt) const override;

  // The canonical answer to a well-formed prompt, nullopt for anything else (never throws).
  std::optional<std::string> solve(const std::string& prompt) const;

 protected:
  virtual char op() const = 0;
  virtual std::string compute(const std::string& a, const std::string& b) const = 0;
  // Digits of the reversed, zero-padded answer for operands of these lengths.
  virtual int answer_width(int len_a, int len_b) const = 0;
  // Digits an operand of at most `digits` significant digits takes in the prompt.
  int written_digits(int digits) const { return std::max(digits, format_.pad_to); }
  // A plausible wrong value of a <op> b from a slip typical of this operation (may by chance
  // equal the right one: the caller checks).
  virtual std::string slip(const std::string& a, const std::string& b, Rng& rng) const = 0;
  // Two other operands, each with as many significant digits as a and b, whose result is
  // that of a and b (most significant digit first, no padding); nullopt when the operation
  // has no such rewrite.
  virtual std::optional<std::pair<std::string, std::string>> resplit(const std::string& a, const std::string& b,
                                                                     Rng& rng) const {
    (void)a;
    (void)b;
    (void)rng;
    return std::nullopt;
  }
  // Two operands with as many significant digits as a and b whose result is that of a and b
  // minus a known offset: {a', b', offset}; nullopt when the operation has none.
  struct Lowered {
    std::string a, b, offset;
  };
  virtual std::optional<Lowered> lower(const std::string& a, const std::string& b, Rng& rng) const {
    (void)a;
    (void)b;
    (void)rng;
    return std::nullopt;
  }

 private:
  // The operands as written in the prompt (padding and digit order as the format says).
  bool parse(const std::string& prompt, std::string* a, std::string* b) const;
  std::string write_operand(const std::string& value) const;
  std::string read_operand(const std::string& written) const;  // back to most significant first
  // An answer to `prompt` as its value (most significant first, no end marker; a reversed
  // answer keeps its zero padding); nullopt when it is not a well-formed answer.
  std::optional<std::string> read_answer(const std::string& prompt, const std::string& answer) const;
  // The answer `answer` (to a shifted rewrite of `prompt`) split at the lowest nonzero digit of
  // `offset`: the digits from there up, the digits below it, and the offset's digits from
  // there up ("" when the offset is zero).
  struct OffsetSplit {
    std::string high, low, offset_high;
  };
  std::optional<OffsetSplit> split_at_offset(const std::string& prompt, const std::string& answer,
                                             const std::string& offset) const;
  // The prompt of the sum a split asks for ("" when the offset is zero).
  std::string sum_prompt(const OffsetSplit& split) const;
  // `value` (most significant first) zero-padded to as many digits as `written` has and laid
  // out like it, so that a rewrite keeps the answer's width.
  std::string write_like(std::string value, const std::string& written) const;
  ArithmeticFormat format_;
};

// FNV-1a of a string: a hash that is the same on every platform (std::hash is not).
uint64_t stable_hash(const std::string& s);

}  // namespace mg::tasks
