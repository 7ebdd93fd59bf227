#include "core/tasks/arithmetic_task.h"

#include <algorithm>

#include "core/errors.h"
#include "core/tasks/decimal.h"

namespace mg::tasks {

namespace {
// Operands longer than this are not graded (garbage prompts must stay cheap to reject).
constexpr size_t kMaxOperandDigits = 400;
}  // namespace

uint64_t stable_hash(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
  return h;
}

Problem ArithmeticTask::generate(uint64_t seed, uint64_t index, Range difficulty) const {
  if (difficulty.lo < 1 || difficulty.hi < difficulty.lo)
    fail_input(name() + ": digits range [" + std::to_string(difficulty.lo) + ", " +
               std::to_string(difficulty.hi) + "] must satisfy 1 <= lo <= hi");
  Rng rng(problem_seed({seed, index}));
  int len_a = rng.uniform(difficulty.lo, difficulty.hi);
  int len_b = rng.uniform(difficulty.lo, difficulty.hi);
  std::string a = decimal::random_number(rng, len_a);
  std::string b = decimal::random_number(rng, len_b);
  Problem p;
  p.prompt = write_operand(a) + op() + write_operand(b) + "=";
  p.answer = *decimal::format_answer(compute(a, b), answer_width(written_digits(len_a), written_digits(len_b)),
                                     format_.reverse_answer);
  return p;
}

std::string ArithmeticTask::write_operand(const std::string& value) const {
  std::string s = value;
  if (static_cast<int>(s.size()) < format_.pad_to) s.insert(0, static_cast<size_t>(format_.pad_to) - s.size(), '0');
  if (format_.reverse_operands) std::reverse(s.begin(), s.end());
  return s;
}

std::string ArithmeticTask::read_operand(const std::string& written) const {
  std::string s = written;
  if (format_.reverse_operands) std::reverse(s.begin(), s.end());
  return s;
}

bool ArithmeticTask::parse(const std::string& prompt, std::string* a, std::string* b) const {
  if (prompt.size() < 4 || prompt.back() != '=') return false;
  size_t at = prompt.find(op());
  if (at == std::string::npos) return false;
  *a = prompt.substr(0, at);
  *b = prompt.substr(at + 1, prompt.size() - at - 2);
  return decimal::is_digits(*a) && decimal::is_digits(*b) && a->size() <= kMaxOperandDigits &&
         b->size() <= kMaxOperandDigits;
}

std::string ArithmeticTask::write_like(std::string value, const std::string& written) const {
  value.insert(0, written.size() - value.size(), '0');
  if (format_.reverse_operands) std::reverse(value.begin(), value.end());
  return value;
}

std::optional<std::string> ArithmeticTask::read_answer(const std::string& prompt, const std::string& answer) const {
  std::string a, b;
  if (!parse(prompt, &a, &b)) return std::nullopt;
  const int width = answer_width(static_cast<int>(a.size()), static_cast<int>(b.size()));
  std::string value = strip_end_marker(answer);
  if (!decimal::is_digits(value)) return std::nullopt;
  if (format_.reverse_answer) {
    // A reversed answer has exactly the width the operands give; anything else is malformed.
    if (static_cast<int>(value.size()) != width) return std::nullopt;
    std::reverse(value.begin(), value.end());
  } else if (value.size() > 1 && value[0] == '0') {
    return std::nullopt;  // a plain answer has no leading zero
  }
  return value;
}

std::optional<std::string> ArithmeticTask::solve(const std::string& prompt) const {
  std::string a, b;
  if (!parse(prompt, &a, &b)) return std::nullopt;
  // The width follows the operands as written, so "007+1=" pads like any 3-digit operand.
  return decimal::format_answer(compute(read_operand(a), read_operand(b)),
                                answer_width(static_cast<int>(a.size()), static_cast<int>(b.size())),
                                format_.reverse_answer);
}

std::string ArithmeticTask::slice(const std::string& prompt) const {
  std::string a, b;
  if (!parse(prompt, &a, &b)) return "malformed";
  return std::to_string(decimal::strip_zeros(compute(read_operand(a), read_operand(b))).size()) + "-digit result";
}

bool ArithmeticTask::grade(const std::string& prompt, const std::string& answer) const {
  try {
    std::optional<std::string> want = solve(prompt);
    return want && strip_end_marker(answer) == *want;
  } catch (...) {  // bad_alloc on absurd input: a grader answers, it does not throw
    return false;
  }
}

std::string ArithmeticTask::wrong_answer(const Problem& p, uint64_t seed) const {
  std::string a, b;
  const std::string& right = p.answer;
  Rng rng(problem_seed({seed, stable_hash(p.prompt), stable_hash(right)}));
  if (parse(p.prompt, &a, &b)) {
    int width = answer_width(static_cast<int>(a.size()), static_cast<int>(b.size()));
    // Slips act on the numbers, not on their padding (a carry dropped at a padded zero
    // would change nothing).
    a = decimal::strip_zeros(read_operand(a));
    b = decimal::strip_zeros(read_operand(b));
    std::string value = compute(a, b);
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::optional<std::string> text;
      switch (rng.uniform(0, 3)) {
        case 0:  // a slip typical of the operation (dropped carry, wrong partial product)
          text = decimal::format_answer(slip(a, b, rng), width, format_.reverse_answer);
          break;
        case 1: {  // off by 10^k
          int k = rng.uniform(0, std::max(0, static_cast<int>(value.size()) - 1));
          auto v = rng.uniform(0, 1) ? std::optional<std::string>(decimal::add_power_of_ten(value, k))
                                     : decimal::subtract_power_of_ten(value, k);
          if (v) text = decimal::format_answer(*v, width, format_.reverse_answer);
          break;
        }
        case 2: {  // two neighbouring digits transposed
          if (right.size() < 2) break;
          std::string t = right;
          size_t i = static_cast<size_t>(rng.uniform(0, static_cast<int>(t.size()) - 2));
          std::swap(t[i], t[i + 1]);
          text = t;
          break;
        }
        default:
          break;  // falls through to a changed digit below
      }
      if (!text) {  // one digit changed
        std::string t = right;
        size_t i = static_cast<size_t>(rng.uniform(0, static_cast<int>(t.size()) - 1));
        t[i] = static_cast<char>('0' + (t[i] - '0' + rng.uniform(1, 9)) % 10);
        text = t;
      }
      // Leading zeros of a plain (non-reversed) answer would be a format change, not a slip.
      bool plain_ok = format_.reverse_answer || text->size() == 1 || (*text)[0] != '0';
      // A plain answer can change length (99+1=100 without its carry is 0); such slips are
      // taken only once same-length ones have failed, so wrong answers keep the format.
      bool length_ok = text->size() == right.size() || attempt >= 8;
      if (*text != right && plain_ok && length_ok && !grade(p.prompt, *text)) return *text;
    }
  }
  // Always wrong: the first character changed ('1'/'2', never a leading zero).
  if (right.empty()) return "0";
  std::string t = right;
  t[0] = t[0] == '1' ? '2' : '1';
  return grade(p.prompt, t) ? t + "0" : t;  // only a non-canonical p.answer gets here
}

}  // namespace mg::tasks
