#pragma once
// The run directory (docs/run-directory.md): created on a first run with the resolved
// recipe; on a resume the stored recipe must agree in every key that changes results.
#include <filesystem>
#include <string>

#include "core/recipe.h"

namespace mg {

struct RunDir {
  std::filesystem::path root;
  bool resumed = false;  // the directory already held a recipe.yaml
  std::filesystem::path recipe() const { return root / "recipe.yaml"; }
  std::filesystem::path metrics() const { return root / "metrics.jsonl"; }
  std::filesystem::path tokenizer() const { return root / "tokenizer.model"; }
  std::filesystem::path latest() const { return root / "LATEST"; }
  std::filesystem::path round(int r) const;      // round-0003
  std::filesystem::path round_tmp(int r) const;  // round-0003.tmp (being written)
};

// Checks that the run directory can be used for `recipe` without changing anything on disk;
// returns what open_run_dir would do. Throws BadInput on a mismatch.
RunDir inspect_run_dir(const Recipe& recipe);
// inspect_run_dir, then creates the directory and writes recipe.yaml when new (rank 0 only
// writes; other ranks pass write=false).
RunDir open_run_dir(const Recipe& recipe, bool write = true);

}  // namespace mg
