// ArithmeticTask's rewrites (RewritingTask): the swapped operands for both operations, and
// addition's same-sum (resplit), shifted (lower), offset and split rewrites. Only the
// place-value rule and the order of the steps are the check's; every sum is the model's.
#include <algorithm>
#include <tuple>

#include "core/tasks/arithmetic_task.h"
#include "core/tasks/decimal.h"

namespace mg::tasks {

std::optional<std::string> ArithmeticTask::equivalent_prompt(const std::string& prompt, int index) const {
  std::string a, b;
  if (index < 0 || !parse(prompt, &a, &b)) return std::nullopt;
  if (index == 0) return b + op() + a + "=";
  Rng rng(problem_seed({stable_hash(prompt), static_cast<uint64_t>(index)}));
  auto split = resplit(decimal::strip_zeros(read_operand(a)), decimal::strip_zeros(read_operand(b)), rng);
  if (!split) return std::nullopt;
  return write_like(split->first, a) + op() + write_like(split->second, b) + "=";
}

std::optional<ShiftedPrompt> ArithmeticTask::shifted_prompt(const std::string& prompt, int index) const {
  std::string a, b;
  if (index < 0 || !parse(prompt, &a, &b)) return std::nullopt;
  // A stream of its own: shifted rewrite k is not drawn from the same numbers as split k.
  constexpr uint64_t kShiftedStream = 0x5348494654ULL;
  Rng rng(problem_seed({stable_hash(prompt), static_cast<uint64_t>(index), kShiftedStream}));
  auto lowered = lower(decimal::strip_zeros(read_operand(a)), decimal::strip_zeros(read_operand(b)), rng);
  if (!lowered) return std::nullopt;
  // Then split the lowered sum another way: the lower digits, and so their carries, change
  // too, which a mistake made there would otherwise share with the original.
  if (auto split = resplit(lowered->a, lowered->b, rng)) {
    lowered->a = split->first;
    lowered->b = split->second;
  }
  return ShiftedPrompt{write_like(lowered->a, a) + op() + write_like(lowered->b, b) + "=", lowered->offset};
}

std::optional<std::string> ArithmeticTask::shift_answer(const std::string& prompt, const std::string& answer,
                                                        const std::string& offset) const {
  std::string a, b;
  if (!parse(prompt, &a, &b) || !decimal::is_digits(offset)) return std::nullopt;
  auto value = read_answer(prompt, answer);
  if (!value) return std::nullopt;
  return decimal::format_answer(decimal::add(decimal::strip_zeros(*value), offset),
                                answer_width(static_cast<int>(a.size()), static_cast<int>(b.size())),
                                format_.reverse_answer);
}

std::optional<ArithmeticTask::OffsetSplit> ArithmeticTask::split_at_offset(const std::string& prompt,
                                                                           const std::string& answer,
                                                                           const std::string& offset) const {
  // Only an addition's offset is added: the smaller problem is an addition.
  if (op() != '+' || !decimal::is_digits(offset)) return std::nullopt;
  auto value = read_answer(prompt, answer);
  if (!value) return std::nullopt;
  const std::string off = decimal::strip_zeros(offset);
  if (off == "0") return OffsetSplit{decimal::strip_zeros(*value), "", ""};
  const size_t k = off.size() - 1 - off.find_last_not_of('0');  // the offset's trailing zeros
  std::string v = *value;
  if (v.size() < k + 1) v.insert(0, k + 1 - v.size(), '0');
  return OffsetSplit{decimal::strip_zeros(v.substr(0, v.size() - k)), v.substr(v.size() - k), off.substr(0, off.size() - k)};
}

std::optional<std::string> ArithmeticTask::offset_sum_prompt(const std::string& prompt, const std::string& answer,
                                                             const std::string& offset) const {
  auto split = split_at_offset(prompt, answer, offset);
  if (!split) return std::nullopt;
  return sum_prompt(*split);
}

std::string ArithmeticTask::sum_prompt(const OffsetSplit& split) const {
  if (split.offset_high.empty()) return std::string();
  return write_operand(split.high) + op() + write_operand(split.offset_high) + "=";
}

std::optional<std::string> ArithmeticTask::join_offset_sum(const std::string& prompt, const std::string& answer,
                                                           const std::string& offset,
                                                           const std::string& sum_answer) const {
  std::string a, b;
  auto split = split_at_offset(prompt, answer, offset);
  if (!split || !parse(prompt, &a, &b)) return std::nullopt;
  std::string high = split->high;
  if (!split->offset_high.empty()) {
    auto sum = read_answer(sum_prompt(*split), sum_answer);
    if (!sum) return std::nullopt;
    high = *sum;
  }
  // The model's sum sits above the answer's own lower digits: place value, not arithmetic.
  return decimal::format_answer(decimal::strip_zeros(high + split->low),
                                answer_width(static_cast<int>(a.size()), static_cast<int>(b.size())),
                                format_.reverse_answer);
}

std::optional<SplitStep> ArithmeticTask::split_step(const std::string& prompt, int index,
                                                    const std::vector<std::string>& answers) const {
  std::string wa, wb;
  if (op() != '+' || index < 0 || !parse(prompt, &wa, &wb)) return std::nullopt;
  std::string a = decimal::strip_zeros(read_operand(wa)), b = decimal::strip_zeros(read_operand(wb));
  const size_t n = std::max(a.size(), b.size());
  a.insert(0, n - a.size(), '0');
  b.insert(0, n - b.size(), '0');
  // Digits in the lower part; a one-digit problem has no upper part and is its own one step.
  const size_t k = n < 2 ? n : index % 2 == 1 ? (n + 1) / 2 : n / 2;
  // A stream of its own, drawn in the same order at every call: a step's problem depends on
  // (prompt, index) and the answers before it, not on how often the steps were asked.
  constexpr uint64_t kSplitStream = 0x53504C4954ULL;
  Rng rng(problem_seed({stable_hash(prompt), static_cast<uint64_t>(index), kSplitStream}));
  auto problem = [&](std::string x, std::string y) {
    x = decimal::strip_zeros(x);
    y = decimal::strip_zeros(y);
    if (index >= 1)
      if (auto other = resplit(x, y, rng)) std::tie(x, y) = *other;
    return write_operand(x) + op() + write_operand(y) + "=";
  };
  // The model's answer to a step as a number; nullopt when it is not a well-formed answer.
  auto value_of = [&](const std::string& step, const std::string& answer) -> std::optional<std::string> {
    auto v = read_answer(step, answer);
    if (!v) return std::nullopt;
    return decimal::strip_zeros(*v);
  };

  const std::string low_step = problem(a.substr(n - k), b.substr(n - k));
  if (answers.empty()) return SplitStep{low_step, ""};
  auto low = value_of(low_step, answers[0]);
  if (!low) return std::nullopt;
  auto final_answer = [&](const std::string& digits) -> std::optional<SplitStep> {
    auto answer = decimal::format_answer(decimal::strip_zeros(digits),
                                         answer_width(static_cast<int>(wa.size()), static_cast<int>(wb.size())),
                                         format_.reverse_answer);
    if (!answer) return std::nullopt;
    return SplitStep{"", *answer};
  };
  if (k == n) return answers.size() == 1 ? final_answer(*low) : std::nullopt;
  std::string low_digits = *low;
  if (low_digits.size() < k + 1) low_digits.insert(0, k + 1 - low_digits.size(), '0');
  const std::string carry = decimal::strip_zeros(low_digits.substr(0, low_digits.size() - k));
  low_digits = low_digits.substr(low_digits.size() - k);

  std::string a_high = a.substr(0, n - k);
  size_t next = 1;  // the answer the next step reads
  if (carry != "0") {
    const std::string carry_step = problem(a_high, carry);
    if (answers.size() < 2) return SplitStep{carry_step, ""};
    auto carried = value_of(carry_step, answers[1]);
    if (!carried) return std::nullopt;
    a_high = *carried;
    next = 2;
  }
  const std::string high_step = problem(a_high, b.substr(0, n - k));
  if (answers.size() == next) return SplitStep{high_step, ""};
  if (answers.size() != next + 1) return std::nullopt;  // more answers than steps
  auto high = value_of(high_step, answers[next]);
  if (!high) return std::nullopt;
  // The last sum above the lower sum's digits below k: place value, not arithmetic.
  return final_answer(*high + low_digits);
}

}  // namespace mg::tasks
