#pragma once
// A round of a run as a Hugging Face model directory, and such a directory as the round-0000 of
// a new run (so that a model trained or fine-tuned elsewhere can start the loop).
//
// The directory written (and read back):
//   config.json, generation_config.json, model.safetensors   (models/hf_weights.h)
//   tokenizer.json, tokenizer_config.json                    (core/tokenizer/hf_tokenizer.h)
//   mindgap/tokenizer.model   the SentencePiece model itself: import needs it to rebuild the run
//   mindgap/recipe.yaml       the run's recipe: import's default recipe
// transformers ignores the mindgap/ folder.
#include <filesystem>
#include <string>
#include <vector>

#include "trainers/run/run_context.h"

namespace mg {

// Writes `model` (round `round` of ctx's run) into `out`, created if missing; files of the
// same names are replaced.
void export_hf(const RunContext& ctx, Gpt& model, int round, const std::filesystem::path& out);

struct HfImport {
  std::string hf_dir;                  // what export_hf wrote, or a compatible directory
  std::string run_dir;                 // the new run directory (must not exist or be empty)
  std::string recipe;                  // default: <hf_dir>/mindgap/recipe.yaml
  std::vector<std::string> overrides;  // key=value, applied to that recipe
};

// Creates run_dir with recipe.yaml (model.* from config.json, which the weights decide; a recipe
// that said otherwise is logged), tokenizer.model, and round-0000 (model.safetensors, state.json,
// MANIFEST) made LATEST. BadInput for anything mindgap's model cannot compute exactly, a
// tokenizer.json that disagrees with the SentencePiece model, or a task character the
// tokenizer lacks. Returns round-0000's parameter count.
int64_t import_hf(const HfImport& args);

}  // namespace mg
