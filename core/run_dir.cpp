#include "core/run_dir.h"

#include <cstdio>

#include "core/errors.h"
#include "core/fs.h"
#include "core/run_lock.h"

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
  // Always rewrite: a resume may legitimately change run.threads or improve.rounds.
  fs::write_file_atomic(rd.recipe(), recipe_to_yaml(recipe));
  return rd;
}

}  // namespace mg
