#include "core/tasks/multiplication.h"

#include <algorithm>

#include "core/tasks/decimal.h"

namespace mg::tasks {

std::string MultiplicationTask::compute(const std::string& a, const std::string& b) const {
  return decimal::multiply(a, b);
}

int MultiplicationTask::max_chars(Range difficulty) const {
  int hi = written_digits(std::max(difficulty.hi, 1));
  return (2 * hi + 2) + 2 * hi;  // "a*b=" and the padded product
}

std::string MultiplicationTask::slip(const std::string& a, const std::string& b, Rng& rng) const {
  // A wrong partial product: one digit of one operand misread (off by one), which is what
  // a slip in one row of long multiplication does to the result. Or, one time in three, the
  // partial products summed without their carries at one position.
  if (rng.uniform(0, 2) == 0) {
    std::string sum = "0";
    std::string shifted_zeros;
    int position = rng.uniform(0, static_cast<int>(a.size() + b.size()) - 1);
    for (size_t j = b.size(); j-- > 0;) {
      std::string row = decimal::multiply(a, std::string(1, b[j])) + shifted_zeros;
      sum = decimal::add_dropping_carry(sum, row, position);
      shifted_zeros.push_back('0');
    }
    return sum;
  }
  std::string x = a, y = b;
  std::string& target = rng.uniform(0, 1) ? x : y;
  size_t i = static_cast<size_t>(rng.uniform(0, static_cast<int>(target.size()) - 1));
  int d = target[i] - '0';
  d = (d == 0) ? 1 : (d == 9) ? 8 : d + (rng.uniform(0, 1) ? 1 : -1);
  target[i] = static_cast<char>('0' + d);
  return decimal::multiply(x, y);
}

}  // namespace mg::tasks
