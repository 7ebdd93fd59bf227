#include "core/recipe/sweep_shape.h"

#include <charconv>
#include <set>

namespace mg {
namespace {

// The positive integers of "a x b [x c]", or empty when the text is not that.
std::vector<int> dimensions(const std::string& text) {
  std::vector<int> out;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t x = text.find('x', at);
    const std::string part = text.substr(at, x == std::string::npos ? std::string::npos : x - at);
    int v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || v < 1) return {};
    out.push_back(v);
    if (x == std::string::npos) break;
    at = x + 1;
  }
  return out;
}

}  // namespace

std::optional<SweepShape> parse_sweep_shape(const std::string& text, int default_heads, std::string* problem) {
  auto fail = [&](const std::string& why) -> std::optional<SweepShape> {
    if (problem) *problem = "'" + text + "': " + why;
    return std::nullopt;
  };
  const std::vector<int> d = dimensions(text);
  if (d.size() != 2 && d.size() != 3) return fail("expected <n_layer>x<d_model> or <n_layer>x<d_model>x<n_head>, e.g. 2x64");
  SweepShape s{d[0], d[1], d.size() == 3 ? d[2] : default_heads, text};
  if (s.n_layer > 128) return fail("n_layer must be at most 128");
  if (s.d_model < 8 || s.d_model > 16384) return fail("d_model must be in [8, 16384]");
  if (s.n_head < 1 || s.d_model % s.n_head != 0)
    return fail(std::to_string(s.n_head) + " heads do not divide d_model " + std::to_string(s.d_model) +
                " (give the heads as a third number)");
  return s;
}

std::string check_sweep_shapes(const std::vector<std::string>& shapes) {
  std::set<std::string> seen;
  for (const auto& text : shapes) {
    std::string problem;
    // Heads 1 divide every width: the heads are checked once model.n_head is known.
    if (!parse_sweep_shape(text, 1, &problem)) return problem;
    if (!seen.insert(text).second) return "'" + text + "' is listed twice";
  }
  return "";
}

std::string check_ascending_positive(const std::vector<int>& steps) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < 1) return "every entry must be >= 1, got " + std::to_string(steps[i]);
    if (i > 0 && steps[i] <= steps[i - 1]) return "must be strictly ascending";
  }
  return "";
}

}  // namespace mg
