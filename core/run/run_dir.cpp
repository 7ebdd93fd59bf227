#include "core/run/run_dir.h"

#include <cstdio>

#include "core/errors.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/run/manifest.h"
#include "core/run/run_lock.h"

namespace mg {

namespace stdfs = std::filesystem;

namespace {

// Empty but for the lock file that a writer takes before it writes anything.
bool empty_but_lock(const stdfs::path& dir) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec))
    if (e.path().filename() != kRunLockFile) return false;
  return true;
}

}  // namespace

stdfs::path RunDir::round(int r) const {
  char name[32];
  std::snprintf(name, sizeof name, "round-%04d", r);
  return root / name;
}
stdfs::path RunDir::round_tmp(int r) const {
  auto p = round(r);
  p += ".tmp";
  return p;
}

RunFileCheck check_run_file(const RunDir& run, const std::string& name) {
  const std::string want = manifest_entry(run.root, name);
  if (want.empty()) return RunFileCheck::Unlisted;
  if (!fs::exists(run.root / name)) return RunFileCheck::Mismatch;
  try {
    return sha256_file(run.root / name) == want ? RunFileCheck::Ok : RunFileCheck::Mismatch;
  } catch (const Error&) {
    return RunFileCheck::Mismatch;
  }
}

void record_run_file(const RunDir& run, const std::string& name) {
  set_manifest_entry(run.root, name, sha256_file(run.root / name));
}

void require_run_file_intact(const RunDir& run, const std::string& name) {
  switch (check_run_file(run, name)) {
    case RunFileCheck::Ok: return;
    case RunFileCheck::Mismatch:
      fail_input((run.root / name).string() + ": does not match its checksum in " + run.manifest().string() +
                 " (damaged, or edited by hand: give changes as key=value overrides instead)");
    case RunFileCheck::Unlisted:
      log::warn_once((run.root / name).string() + ": no checksum in " + run.manifest().string() +
                     " (a run written before it had one), so it is not checked; `mindgap run` records it");
  }
}

namespace {

// Any round directory, committed or being written: pretraining has used the tokenizer.
bool has_round_dirs(const RunDir& run) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(run.root, ec))
    if (e.path().filename().string().rfind("round-", 0) == 0) return true;
  return false;
}

// A changed tokenizer would silently re-map every token the rounds were trained on; a
// missing one may be trained afresh only while nothing was trained with it. Checked with the
// recipe, so that `--check` says it and a refused run writes nothing.
void check_tokenizer_before_resume(const RunDir& rd) {
  if (!fs::exists(rd.tokenizer())) {
    if (has_round_dirs(rd))
      fail_input(rd.tokenizer().string() + ": missing, but this run's rounds were trained with it; it cannot be "
                 "retrained. Restore it (" + rd.manifest().filename().string() +
                 " holds its checksum), or start a new run.dir");
    return;
  }
  if (check_run_file(rd, "tokenizer.model") == RunFileCheck::Mismatch)
    fail_input(rd.tokenizer().string() + ": does not match its checksum in " + rd.manifest().string() +
               " (damaged); restore it, or start a new run.dir");
}

}  // namespace

void refuse_old_round_format(const RunDir& run) {
  std::error_code ec;
  if (!stdfs::is_directory(run.root, ec)) return;
  for (const auto& entry : stdfs::directory_iterator(run.root, ec)) {
    if (entry.path().filename().string().rfind("round-", 0) != 0) continue;
    // Format 1's file: named here only to refuse it.
    const auto old = entry.path() / "check_answers.jsonl";
    if (stdfs::exists(old, ec))
      fail_input(old.string() + ": run-directory format 1 (the equivalent check's answers in their own file), written "
                 "by an earlier mindgap; this version reads format " + std::to_string(kRunDirFormat) +
                 " (they are rows of scored.jsonl) only: run it again into a new run.dir");
  }
}

RunDir inspect_run_dir(const Recipe& recipe) {
  RunDir rd;
  rd.root = recipe.run.dir;
  std::error_code ec;
  if (stdfs::exists(rd.root, ec) && !stdfs::is_directory(rd.root, ec))
    fail_input(rd.root.string() + ": run.dir exists and is not a directory");
  if (fs::exists(rd.recipe())) {
    rd.resumed = true;
    Recipe stored = parse_recipe(fs::read_file(rd.recipe()), rd.recipe().string());
    auto diff = result_changing_differences(stored, recipe);
    if (!diff.empty()) {
      std::string keys;
      for (const auto& k : diff) keys += (keys.empty() ? "" : ", ") + k;
      fail_input(rd.root.string() + ": cannot resume: the recipe differs from the run's recipe.yaml in " +
                 keys + " (use another run.dir, or the same values)");
    }
    check_tokenizer_before_resume(rd);
    refuse_old_round_format(rd);
  } else if (stdfs::exists(rd.root, ec) && !empty_but_lock(rd.root)) {
    fail_input(rd.root.string() + ": run.dir is not empty and holds no recipe.yaml; refusing to write into it");
  }
  return rd;
}

RunDir open_run_dir(const Recipe& recipe, bool write) {
  RunDir rd = inspect_run_dir(recipe);
  if (!write) return rd;
  std::error_code ec;
  stdfs::create_directories(rd.root, ec);
  if (ec) fail_input(rd.root.string() + ": cannot create run directory (" + ec.message() + ")");
  // The stored recipe was compared above in every key that changes results, so one that no
  // longer matches its checksum (damaged in another key, or a run killed between the two
  // writes below) is safe to replace: say so and go on.
  if (rd.resumed && check_run_file(rd, "recipe.yaml") == RunFileCheck::Mismatch)
    log::warn(rd.recipe().string() + ": does not match its checksum in " + rd.manifest().string() +
              "; it agrees with this recipe in every key that changes results and is rewritten");
  // Always rewrite: a resume may legitimately change run.threads or improve.rounds.
  fs::write_file_atomic(rd.recipe(), recipe_to_yaml(recipe));
  record_run_file(rd, "recipe.yaml");
  return rd;
}

}  // namespace mg
