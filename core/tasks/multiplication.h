#pragma once
// Multiplication of an m-digit by an n-digit number, m and n drawn from the difficulty range.
// With reverse_answer the product is zero-padded to m + n digits (the most a product of such
// operands can have) and written least significant digit first: "12*34=" -> "8040" (0408
// reversed). Without it: the plain product, "12*34=408".
#include "core/tasks/arithmetic_task.h"

namespace mg::tasks {

class MultiplicationTask final : public ArithmeticTask {
 public:
  using ArithmeticTask::ArithmeticTask;
  std::string name() const override { return "multiplication"; }
  int max_chars(Range difficulty) const override;

 protected:
  char op() const override { return '*'; }
  std::string compute(const std::string& a, const std::string& b) const override;
  int answer_width(int len_a, int len_b) const override { return len_a + len_b; }
  std::string slip(const std::string& a, const std::string& b, Rng& rng) const override;
};

}  // namespace mg::tasks
