#include "core/distributed/hostlist.h"

#include <cctype>

#include "core/errors.h"

namespace mg::dist {
namespace {

// A list naming more hosts than any cluster has is a typo ("n[1-99999999]"), not a job.
constexpr size_t kMaxHosts = size_t{1} << 16;

struct Parser {
  const std::string& list;
  const std::string& what;

  [[noreturn]] void bad(const std::string& why) const {
    fail_input(what + "='" + list + "' is not a Slurm host list: " + why);
  }

  // Top-level entries: commas outside brackets separate hosts.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    std::string cur;
    bool in_bracket = false;
    for (char c : list) {
      if (c == '[') {
        if (in_bracket) bad("nested '['");
        in_bracket = true;
      } else if (c == ']') {
        if (!in_bracket) bad("']' without '['");
        in_bracket = false;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        bad("it contains white space");
      }
      if (c == ',' && !in_bracket) {
        if (cur.empty()) bad("an empty host name");
        out.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (in_bracket) bad("'[' without ']'");
    if (cur.empty()) bad("an empty host name");
    out.push_back(cur);
    return out;
  }

  static bool all_digits(const std::string& s) {
    if (s.empty()) return false;
    for (char c : s)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
  }

  // The numbers of one bracket, "01-03,7" -> 01 02 03 7; a range keeps the width of its low end.
  std::vector<std::string> bracket(const std::string& body, bool first_only) const {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= body.size()) {
      size_t comma = body.find(',', start);
      std::string part = body.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      size_t dash = part.find('-');
      if (dash == std::string::npos) {
        if (!all_digits(part)) bad("'[" + body + "]' holds '" + part + "', not a number or a range");
        out.push_back(part);
      } else {
        std::string lo = part.substr(0, dash), hi = part.substr(dash + 1);
        if (!all_digits(lo) || !all_digits(hi) || lo.size() > 9 || hi.size() > 9)
          bad("'[" + body + "]' holds '" + part + "', not a range of numbers");
        long a = std::stol(lo), b = std::stol(hi);
        if (a > b) bad("the range '" + part + "' runs backwards");
        if (static_cast<size_t>(b - a) >= kMaxHosts) bad("the range '" + part + "' is too long");
        for (long n = a; n <= b; ++n) {
          std::string digits = std::to_string(n);
          if (digits.size() < lo.size()) digits.insert(0, lo.size() - digits.size(), '0');
          out.push_back(digits);
          if (first_only) break;
        }
      }
      if (first_only || comma == std::string::npos) break;
      start = comma + 1;
    }
    return out;
  }

  // One entry: literal text and brackets, every combination ("r[1-2]-n[1-2]": r1-n1 r1-n2 r2-n1 r2-n2).
  void entry(const std::string& e, bool first_only, std::vector<std::string>& out) const {
    std::vector<std::string> hosts{""};
    size_t i = 0;
    while (i < e.size()) {
      if (e[i] != '[') {
        size_t next = e.find('[', i);
        std::string text = e.substr(i, next == std::string::npos ? std::string::npos : next - i);
        for (auto& h : hosts) h += text;
        i = next == std::string::npos ? e.size() : next;
        continue;
      }
      size_t close = e.find(']', i);  // entries() checked that it exists
      auto values = bracket(e.substr(i + 1, close - i - 1), first_only);
      if (hosts.size() * values.size() + out.size() > kMaxHosts) bad("it names too many hosts");
      std::vector<std::string> next;
      next.reserve(hosts.size() * values.size());
      for (auto& h : hosts)
        for (auto& v : values) next.push_back(h + v);
      hosts.swap(next);
      i = close + 1;
    }
    if (hosts.size() + out.size() > kMaxHosts) bad("it names too many hosts");
    out.insert(out.end(), hosts.begin(), hosts.end());
  }
};

}  // namespace

std::vector<std::string> expand_hostlist(const std::string& list, const std::string& what) {
  Parser p{list, what};
  std::vector<std::string> out;
  for (auto& e : p.entries()) p.entry(e, /*first_only=*/false, out);
  return out;
}

std::string first_host(const std::string& list, const std::string& what) {
  Parser p{list, what};
  std::vector<std::string> out;
  p.entry(p.entries().front(), /*first_only=*/true, out);
  return out.front();
}

}  // namespace mg::dist
