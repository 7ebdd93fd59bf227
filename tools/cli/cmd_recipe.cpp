// `mindgap recipe --keys`: every recipe key with its type, allowed values, default and meaning,
// as Markdown on stdout (docs/recipes.md is this output). Generated from the schema, so the
// reference and the parser cannot disagree.
#include <iostream>

#include "core/errors.h"
#include "core/recipe/recipe_reference.h"
#include "tools/cli/commands.h"

namespace mg::cli {

Action add_recipe(CLI::App& app) {
  auto* sub = app.add_subcommand("recipe", "about recipes: --keys prints the reference of every key (Markdown)");
  auto keys = std::make_shared<bool>(false);
  sub->add_flag("--keys", *keys, "print every recipe key: type, allowed values, default, meaning");
  return [keys]() -> int {
    if (!*keys) fail_input("recipe: say what to print: --keys (the reference of every recipe key)");
    std::cout << recipe_reference_markdown() << std::flush;
    return 0;
  };
}

}  // namespace mg::cli
