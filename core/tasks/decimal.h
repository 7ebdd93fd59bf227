#pragma once
// Arithmetic on non-negative decimal strings (most significant digit first, no sign), so
// operands of any length work without overflow. Small helpers of the arithmetic tasks.
#include <optional>
#include <string>

#include "core/tasks/rng.h"

namespace mg::tasks::decimal {

bool is_digits(const std::string& s);            // non-empty, '0'..'9' only
std::string strip_zeros(const std::string& s);   // "007" -> "7", "000" -> "0"
std::string add(const std::string& a, const std::string& b);
std::string multiply(const std::string& a, const std::string& b);
// a + b with the carry out of digit `position` (0 = least significant) lost; position < 0
// loses every carry (digit-wise sums mod 10): the classic schoolbook slip.
std::string add_dropping_carry(const std::string& a, const std::string& b, int position);
// a + 10^k, or a - 10^k (nullopt when that would be negative).
std::string add_power_of_ten(const std::string& a, int k);
std::optional<std::string> subtract_power_of_ten(const std::string& a, int k);
// -1, 0 or 1 as a <, ==, > b by value (leading zeros ignored).
int compare(const std::string& a, const std::string& b);
// a - b, or nullopt when b > a.
std::optional<std::string> subtract(const std::string& a, const std::string& b);
// A random number in [0, limit], uniform (rejection from random digit strings).
std::string random_at_most(Rng& rng, const std::string& limit);
// A random number of exactly `digits` digits (no leading zero unless digits == 1).
std::string random_number(Rng& rng, int digits);
// The answer text: with `reverse`, zero-padded on the left to `width` then written least
// significant digit first ("147", 3 -> "741"); otherwise the plain number. nullopt when the
// value needs more than `width` digits in reversed form.
std::optional<std::string> format_answer(const std::string& value, int width, bool reverse);

}  // namespace mg::tasks::decimal
