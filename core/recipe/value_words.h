#pragma once
// Recipe values as text, one formatter for the key reference's defaults (docs/recipes.md) and
// for flatten_recipe, whose texts are compared to tell two recipes apart: numbers are the
// shortest text that reads back as the same value, so equal values give equal texts and
// different numbers different ones. (recipe.yaml is written by yaml-cpp in recipe_emit.cpp.)
#include <map>
#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/recipe/recipe_schema.h"

namespace mg::schema {

inline std::string value_words(bool v) { return v ? "true" : "false"; }
inline std::string value_words(int v) { return std::to_string(v); }
inline std::string value_words(long long v) { return std::to_string(v); }
inline std::string value_words(double v) { return number_words(v); }
inline std::string value_words(const std::string& v) { return v.empty() ? "\"\"" : v; }
template <NamedOption E>
std::string value_words(E option) {
  return name_of(option);
}
inline std::string value_words(const Range& r) {
  return "[" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + "]";
}
inline std::string value_words(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return "[" + s + "]";
}
inline std::string value_words(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}
inline std::string value_words(const std::map<std::string, std::vector<int>>& m) {
  std::string s;
  for (const auto& [k, vs] : m) s += (s.empty() ? "" : ", ") + k + ": " + value_words(vs);
  return "{" + s + "}";
}

}  // namespace mg::schema
