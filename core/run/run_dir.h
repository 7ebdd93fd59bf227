#pragma once
// The run directory (docs/run-directory.md): created on a first run with the resolved
// recipe; on a resume the stored recipe must agree in every key that changes results.
#include <filesystem>
#include <string>

#include "core/recipe/recipe.h"

namespace mg {

struct RunDir {
  std::filesystem::path root;
  bool resumed = false;  // the directory already held a recipe.yaml
  std::filesystem::path recipe() const { return root / "recipe.yaml"; }
  std::filesystem::path metrics() const { return root / "metrics.jsonl"; }
  std::filesystem::path tokenizer() const { return root / "tokenizer.model"; }
  std::filesystem::path latest() const { return root / "LATEST"; }
  // Checksums of recipe.yaml and tokenizer.model (sha256sum format, like a round's MANIFEST).
  std::filesystem::path manifest() const { return root / "MANIFEST"; }
  std::filesystem::path round(int r) const;      // round-0003
  std::filesystem::path round_tmp(int r) const;  // round-0003.tmp (being written)
};

// The run directory's own files (recipe.yaml, tokenizer.model) against the run's MANIFEST.
enum class RunFileCheck { Ok, Mismatch, Unlisted };
// Unlisted: the MANIFEST or its line is missing (a run written before these files had
// checksums); Mismatch: the file is missing, unreadable or its content changed.
RunFileCheck check_run_file(const RunDir& run, const std::string& name);
// Records the file's current checksum in the run's MANIFEST (other lines kept).
void record_run_file(const RunDir& run, const std::string& name);
// Read-only commands: BadInput naming the file when it does not match its checksum; a warning
// (once) when it has none.
void require_run_file_intact(const RunDir& run, const std::string& name);

// The run-directory format this version writes and reads. Format 1 kept the equivalent check's
// answers in a round's check_answers.jsonl; format 2 keeps them as rows of scored.jsonl.
constexpr int kRunDirFormat = 2;
// BadInput naming the file and the format when a round directory (committed or .tmp) holds a
// file of an older format that this version does not read.
void refuse_old_round_format(const RunDir& run);

// Checks that the run directory can be used for `recipe` without changing anything on disk;
// returns what open_run_dir would do. Throws BadInput on a mismatch, and on a resume whose
// tokenizer.model changed, or went missing once rounds were trained with it.
RunDir inspect_run_dir(const Recipe& recipe);
// inspect_run_dir, then creates the directory and writes recipe.yaml when new (rank 0 only
// writes; other ranks pass write=false).
RunDir open_run_dir(const Recipe& recipe, bool write = true);

}  // namespace mg
