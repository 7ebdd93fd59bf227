#include "trainers/run/run_fork.h"

#include <algorithm>
#include <filesystem>

#include "core/run/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/run/manifest.h"
#include "core/run/run_dir.h"

namespace mg {

namespace stdfs = std::filesystem;

void fork_from(const Recipe& recipe, const std::string& from) {
  stdfs::path src = from, dst = recipe.run.dir;
  if (!fs::exists(src / "recipe.yaml")) fail_input(from + ": not a run directory (no recipe.yaml)");
  Recipe base = load_recipe((src / "recipe.yaml").string());
  std::vector<std::string> differ;
  auto a = flatten_recipe(base), b = flatten_recipe(recipe);
  for (const auto& [k, v] : a) {
    bool shapes_pretraining = k.rfind("task.", 0) == 0 || k.rfind("tokenizer.", 0) == 0 || k.rfind("model.", 0) == 0 ||
                              k.rfind("pretrain.", 0) == 0 || k == "run.seed";
    if (shapes_pretraining && b[k] != v) differ.push_back(k);
  }
  // The verdict formats taught in pretraining must cover the ones this run asks for.
  for (const auto& f : trained_verify_formats(recipe)) {
    auto taught = trained_verify_formats(base);
    if (std::find(taught.begin(), taught.end(), f) == taught.end()) differ.push_back("improve.verify (format " + f + " not pretrained)");
  }
  if (!differ.empty()) {
    std::string keys;
    for (const auto& k : differ) keys += (keys.empty() ? "" : ", ") + k;
    fail_input("--from " + from + ": its pretraining differs in " + keys);
  }
  std::string problem;
  RunDir src_run;
  src_run.root = src;
  if (!verify_round(src_run, 0, &problem)) fail_input(from + "/round-0000: " + problem);
  if (!fs::exists(src_run.tokenizer())) fail_input(src_run.tokenizer().string() + ": missing");
  require_run_file_intact(src_run, "tokenizer.model");
  if (fs::exists(dst / "recipe.yaml")) return;  // already forked: resume as usual
  inspect_run_dir(recipe);                        // refuses a foreign non-empty directory
  stdfs::create_directories(dst);
  stdfs::copy(src / "round-0000", dst / "round-0000.tmp", stdfs::copy_options::recursive);
  stdfs::copy_file(src / "tokenizer.model", dst / "tokenizer.model", stdfs::copy_options::overwrite_existing);
  RunDir dst_run;
  dst_run.root = dst;
  record_run_file(dst_run, "tokenizer.model");
  stdfs::rename(dst / "round-0000.tmp", dst / "round-0000");
  fs::write_file_atomic(dst / "LATEST", "round-0000\n");
  fs::write_file_atomic(dst / "recipe.yaml", recipe_to_yaml(recipe));
}

}  // namespace mg
