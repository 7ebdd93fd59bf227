#pragma once
// Addition of two numbers whose lengths are drawn from the difficulty range.
// With reverse_answer the answer is zero-padded to max(len a, len b) + 1 digits and written
// least significant digit first: "62+85=" -> "741" (147 reversed), "1+2=" -> "30". The model
// then emits digits in the order a carry propagates. Without it: the plain sum, "62+85=147".
#include "core/tasks/arithmetic_task.h"

namespace mg::tasks {

class AdditionTask final : public ArithmeticTask {
 public:
  using ArithmeticTask::ArithmeticTask;
  std::string name() const override { return "addition"; }
  int max_chars(Range difficulty) const override;
  // Any number of same-sum rewrites, shifted and split rewrites.
  RewriteSupport supports() const override { return {INT_MAX, true, true}; }

 protected:
  char op() const override { return '+'; }
  std::string compute(const std::string& a, const std::string& b) const override;
  int answer_width(int len_a, int len_b) const override;
  std::string slip(const std::string& a, const std::string& b, Rng& rng) const override;
  // a' + b' = a + b with a' drawn uniformly among the splits that keep both lengths.
  std::optional<std::pair<std::string, std::string>> resplit(const std::string& a, const std::string& b,
                                                             Rng& rng) const override;
  // The leading digit of each operand lowered to a uniform draw from [1, itself] ([0, itself]
  // for a one-digit operand), the rest kept: a' + b' = a + b - offset. Two lowered leading
  // digits seldom carry into the next digit, which is where a model one digit past its
  // training lengths fails, and which every same-sum rewrite shares.
  std::optional<Lowered> lower(const std::string& a, const std::string& b, Rng& rng) const override;
};

}  // namespace mg::tasks
