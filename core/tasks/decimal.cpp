#include "core/tasks/decimal.h"

#include <algorithm>
#include <vector>

namespace mg::tasks::decimal {

bool is_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string strip_zeros(const std::string& s) {
  size_t first = s.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : s.substr(first);
}

namespace {
// Digit i counted from the least significant end, 0 past the end.
int digit_at(const std::string& s, size_t i) { return i < s.size() ? s[s.size() - 1 - i] - '0' : 0; }
}  // namespace

std::string add_dropping_carry(const std::string& a, const std::string& b, int position) {
  size_t n = std::max(a.size(), b.size());
  std::string out;
  int carry = 0;
  for (size_t i = 0; i < n; ++i) {
    int s = digit_at(a, i) + digit_at(b, i) + carry;
    out.push_back(static_cast<char>('0' + s % 10));
    carry = s / 10;
    if (position < 0 || static_cast<size_t>(position) == i) carry = 0;
  }
  if (carry) out.push_back('1');
  std::reverse(out.begin(), out.end());
  return strip_zeros(out);
}

std::string add(const std::string& a, const std::string& b) {
  return add_dropping_carry(a, b, static_cast<int>(std::max(a.size(), b.size())) + 1);
}

std::string multiply(const std::string& a, const std::string& b) {
  std::vector<int> acc(a.size() + b.size(), 0);  // least significant first
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t j = 0; j < b.size(); ++j) acc[i + j] += digit_at(a, i) * digit_at(b, j);
  std::string out;
  int carry = 0;
  for (int v : acc) {
    int s = v + carry;
    out.push_back(static_cast<char>('0' + s % 10));
    carry = s / 10;
  }
  while (carry) {
    out.push_back(static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
  std::reverse(out.begin(), out.end());
  return strip_zeros(out);
}

std::string add_power_of_ten(const std::string& a, int k) {
  std::string power(static_cast<size_t>(k) + 1, '0');
  power[0] = '1';
  return add(a, power);
}

std::optional<std::string> subtract_power_of_ten(const std::string& a, int k) {
  std::string s = strip_zeros(a);
  if (static_cast<int>(s.size()) <= k) return std::nullopt;  // a < 10^k
  // Borrow from digit k upwards.
  for (int i = static_cast<int>(s.size()) - 1 - k; i >= 0; --i) {
    if (s[i] > '0') {
      --s[i];
      return strip_zeros(s);
    }
    s[i] = '9';
  }
  return std::nullopt;
}

int compare(const std::string& a, const std::string& b) {
  std::string x = strip_zeros(a), y = strip_zeros(b);
  if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
  int c = x.compare(y);  // same length: lexicographic is numeric
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::optional<std::string> subtract(const std::string& a, const std::string& b) {
  if (compare(a, b) < 0) return std::nullopt;
  std::string out;
  int borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int d = digit_at(a, i) - digit_at(b, i) - borrow;
    borrow = d < 0 ? 1 : 0;
    out.push_back(static_cast<char>('0' + d + 10 * borrow));
  }
  std::reverse(out.begin(), out.end());
  return strip_zeros(out);
}

std::string random_at_most(Rng& rng, const std::string& limit) {
  std::string top = strip_zeros(limit);
  // Each draw of top.size() digits is accepted with probability > 1/10; 256 failures in a
  // row (p < 1e-11) fall back to 0 so that a caller never loops forever.
  for (int attempt = 0; attempt < 256; ++attempt) {
    std::string s;
    for (size_t i = 0; i < top.size(); ++i) s.push_back(static_cast<char>('0' + rng.uniform(0, 9)));
    if (compare(s, top) <= 0) return strip_zeros(s);
  }
  return "0";
}

std::string random_number(Rng& rng, int digits) {
  std::string s;
  for (int i = 0; i < digits; ++i) {
    int lo = (i == 0 && digits > 1) ? 1 : 0;
    s.push_back(static_cast<char>('0' + rng.uniform(lo, 9)));
  }
  return s;
}

std::optional<std::string> format_answer(const std::string& value, int width, bool reverse) {
  std::string v = strip_zeros(value);
  if (!reverse) return v;
  if (static_cast<int>(v.size()) > width) return std::nullopt;
  std::string padded = std::string(static_cast<size_t>(width) - v.size(), '0') + v;
  std::reverse(padded.begin(), padded.end());
  return padded;
}

}  // namespace mg::tasks::decimal
