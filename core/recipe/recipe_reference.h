#pragma once
// The recipe key reference (docs/recipes.md), generated from the schema so that it cannot
// drift from the keys the parser accepts: `mindgap recipe --keys` prints it.
#include <string>
#include <vector>

namespace mg {

struct RecipeKeyDoc {
  std::string key;            // dotted path, e.g. improve.filter.method
  std::string type;           // integer, number, string, ...
  std::string allowed;        // the allowed values in words ("" where the schema gives none)
  std::string default_value;  // the default as a recipe would write it
  std::string meaning;        // one line ("" where the schema gives none)
  bool required = false;
};

// Every key of the schema, in its order.
std::vector<RecipeKeyDoc> recipe_key_docs();
// The Markdown reference: an introduction, then one table per top-level section.
std::string recipe_reference_markdown();

}  // namespace mg
