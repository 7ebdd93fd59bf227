#pragma once
// The message of the error a recipe (YAML text plus key=value overrides) is refused with, or ""
// when it is accepted; a refusal must be bad input (exit code 2).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "core/recipe/recipe.h"

namespace mg::testing {

inline std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    mg::parse_recipe(yaml, "r.yaml", overrides);
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

}  // namespace mg::testing
