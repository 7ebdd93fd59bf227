#pragma once
// A model shape of a sweep, as the recipe writes it: "<n_layer>x<d_model>" (the recipe's
// model.n_head) or "<n_layer>x<d_model>x<n_head>", e.g. "2x64" or "4x128x4".
#include <optional>
#include <string>
#include <vector>

namespace mg {

struct SweepShape {
  int n_layer = 0, d_model = 0, n_head = 0;
  std::string name;  // as written in the recipe; also the shape's directory in the sweep
};

// The shape `text` names, with `default_heads` when it gives none; nullopt (and `problem` set)
// when it is malformed or the heads do not divide the width.
std::optional<SweepShape> parse_sweep_shape(const std::string& text, int default_heads, std::string* problem = nullptr);

// "" when every entry parses (the heads checked later, against model.n_head), else the problem.
std::string check_sweep_shapes(const std::vector<std::string>& shapes);

// "" when `steps` is strictly ascending and every entry is >= 1, else the problem.
std::string check_ascending_positive(const std::vector<int>& steps);

}  // namespace mg
