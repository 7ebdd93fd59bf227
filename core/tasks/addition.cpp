#include "core/tasks/addition.h"

#include <algorithm>

#include "core/tasks/decimal.h"

namespace mg::tasks {

std::string AdditionTask::compute(const std::string& a, const std::string& b) const {
  return decimal::add(a, b);
}

int AdditionTask::answer_width(int len_a, int len_b) const { return std::max(len_a, len_b) + 1; }

int AdditionTask::max_chars(Range difficulty) const {
  int hi = written_digits(std::max(difficulty.hi, 1));
  return (2 * hi + 2) + (hi + 1);  // "a+b=" and the padded sum
}

std::string AdditionTask::slip(const std::string& a, const std::string& b, Rng& rng) const {
  // One carry dropped (a random digit position), or, one time in four, every carry.
  int n = static_cast<int>(std::max(a.size(), b.size()));
  int position = rng.uniform(0, 3) == 0 ? -1 : rng.uniform(0, n - 1);
  return decimal::add_dropping_carry(a, b, position);
}

}  // namespace mg::tasks
