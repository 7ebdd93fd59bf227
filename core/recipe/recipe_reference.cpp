// The key reference as a visitor over the schema: the defaults come from a default-constructed
// Recipe, the allowed values and meanings from each key's declaration.
#include "core/recipe/recipe_reference.h"

#include <map>
#include <sstream>

#include "core/recipe/recipe.h"
#include "core/recipe/recipe_schema.h"
#include "core/recipe/value_words.h"

namespace mg {
namespace {

template <class T>
const char* type_words() {
  if constexpr (std::is_same_v<T, bool>) return "bool";
  else if constexpr (std::is_integral_v<T>) return "integer";
  else if constexpr (std::is_floating_point_v<T>) return "number";
  else if constexpr (std::is_same_v<T, std::string> || NamedOption<T>) return "string";
  else if constexpr (std::is_same_v<T, Range>) return "[low, high] or one integer";
  else if constexpr (std::is_same_v<T, std::vector<std::string>>) return "list of strings";
  else if constexpr (std::is_same_v<T, std::vector<int>>) return "list of integers";
  else return "map of lists of integers";
}

class DocVisitor {
 public:
  std::vector<RecipeKeyDoc> keys;
  void section(const std::string& key, const std::function<void()>& body) {
    std::string saved = prefix_;
    prefix_ += key + ".";
    body();
    prefix_ = saved;
  }
  template <class T>
  void field(const std::string& key, T& value, const schema::Check<T>& check, const char* meaning = "") {
    std::string allowed = check.allowed;
    if (allowed.empty() && !check && std::is_same_v<T, bool>) allowed = "`true`, `false`";
    if constexpr (NamedOption<T>)
      if (allowed.empty()) allowed = schema::one_of(method_names(names_of(value))).allowed;
    // The curriculum's reader checks its shape itself (recipe_parse.cpp): say what it accepts.
    if (allowed.empty() && !check && std::is_same_v<T, std::map<std::string, std::vector<int>>>)
      allowed = "key `digits` or `holes`, a list of integers ≥ 0";
    if (allowed.empty() && !check) allowed = "any";
    keys.push_back({prefix_ + key, type_words<T>(), allowed, schema::value_words(value), meaning, check.required});
  }
  template <class T>
  void field(const std::string& key, T& value, const char* meaning = "") {
    field(key, value, schema::Check<T>{}, meaning);
  }

 private:
  std::string prefix_;
};

// A table cell: no line breaks, and a '|' would end the cell.
std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace

std::vector<RecipeKeyDoc> recipe_key_docs() {
  Recipe defaults;
  DocVisitor v;
  schema::visit_recipe(defaults, v);
  return v.keys;
}

std::string recipe_reference_markdown() {
  std::ostringstream md;
  md << "# Recipe keys\n\n"
     << "Generated from `core/recipe/recipe_schema.h` by `mindgap recipe --keys`; do not edit by hand. After\n"
     << "changing a key, regenerate it with `build/mindgap recipe --keys > docs/recipes.md` (the test\n"
     << "`RecipeReference.DocsMatchTheSchema` fails until then).\n\n"
     << "A recipe is one YAML file (`recipes/`). Every key is checked: unknown keys are errors that name\n"
     << "the nearest known key, and so are wrong types and values outside the allowed ones. A key left out\n"
     << "takes its default. `key=value` on the command line overrides any key with the same checks\n"
     << "(`improve.rounds=5`, `task.digits=[2,4]`). Rules between keys (e.g. `model.n_head` divides\n"
     << "`model.d_model`) are checked after the keys and named in the meanings below. The resolved\n"
     << "recipe is written to the run directory as `recipe.yaml`; a resume whose recipe differs in a key\n"
     << "that changes results is refused (the keys that may change say so).\n";
  std::string section;
  for (const auto& k : recipe_key_docs()) {
    std::string top = k.key.substr(0, k.key.find('.'));
    if (top != section) {
      section = top;
      md << "\n## " << section << "\n\n"
         << "| key | type | allowed | default | meaning |\n"
         << "|---|---|---|---|---|\n";
    }
    md << "| `" << k.key << "` | " << cell(k.type) << " | " << cell(k.allowed) << " | "
       << (k.required ? std::string("required") : "`" + cell(k.default_value) + "`") << " | "
       << cell(k.meaning.empty() ? "(no meaning given in the schema)" : k.meaning) << " |\n";
  }
  return md.str();
}

}  // namespace mg
