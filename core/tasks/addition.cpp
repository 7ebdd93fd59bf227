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

std::optional<std::pair<std::string, std::string>> AdditionTask::resplit(const std::string& a, const std::string& b,
                                                                         Rng& rng) const {
  // The smallest and largest numbers with as many digits as x ("0" counts as one digit).
  auto smallest = [](const std::string& x) { return x.size() == 1 ? std::string("0") : "1" + std::string(x.size() - 1, '0'); };
  auto largest = [](const std::string& x) { return std::string(x.size(), '9'); };
  const std::string sum = decimal::add(a, b);
  // a' in [max(min a, sum - max b), min(max a, sum - min b)]: a itself is in it.
  std::string lo = smallest(a);
  if (auto v = decimal::subtract(sum, largest(b)); v && decimal::compare(*v, lo) > 0) lo = *v;
  std::string hi = largest(a);
  if (auto v = decimal::subtract(sum, smallest(b)); v && decimal::compare(*v, hi) < 0) hi = *v;
  std::string a2 = decimal::add(lo, decimal::random_at_most(rng, *decimal::subtract(hi, lo)));
  return std::make_pair(a2, *decimal::subtract(sum, a2));
}

std::optional<ArithmeticTask::Lowered> AdditionTask::lower(const std::string& a, const std::string& b,
                                                            Rng& rng) const {
  auto lowered = [&](std::string x) {
    const int top = x[0] - '0';
    const int least = x.size() == 1 ? 0 : 1;  // keeps the operand's length
    x[0] = static_cast<char>('0' + rng.uniform(std::min(least, top), top));
    return x;
  };
  Lowered out{lowered(a), lowered(b), ""};
  // (a - a') + (b - b'): what was taken off the two leading digits, not the sum itself.
  out.offset = decimal::add(*decimal::subtract(a, out.a), *decimal::subtract(b, out.b));
  return out;
}

}  // namespace mg::tasks
