#pragma once
// Stage "distill": fine-tune the model on the filtered (weighted) examples of a round (see
// distill_data.h), with a share of pretraining-style examples replayed so that the verifier
// does not drift. Fresh AdamW each round; batches are a pure function of (seed, round, step).
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "trainers/stages/distill_data.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/run_context.h"

namespace mg {

struct DistillSummary {
  double first_loss = 0, last_loss = 0, seconds = 0;
  // The first applied step's loss, and the mean over the last loss_window(steps) ones.
  double start_loss = 0, end_loss = 0;
  int examples = 0;
  int skipped = 0;  // steps whose loss or gradient norm was not finite (run.nonfinite=skip)
};

// How many of the last steps of distillation the divergence check averages.
inline int loss_window(int steps) { return std::max(1, std::min(20, steps / 10)); }

DistillSummary distill(RunContext& ctx, Gpt& model, int round, const std::vector<DistillExample>& examples);

// The summary as the round's model.safetensors metadata (exact decimal text), and back, so
// that a resumed round reports the same numbers as the run that distilled it.
std::map<std::string, std::string> distill_metadata(const DistillSummary& s);
DistillSummary distill_summary_from(const std::map<std::string, std::string>& metadata);

// A distillation whose loss ended (mean of the last steps) above max_ratio times its first
// step's loss has diverged: it
// is refused (BadInput: the recipe's learning rate is the usual cause) before the round is
// saved, with a message naming the keys to change. Reads only the training loss, never a
// grader's label. max_ratio 0 turns the check off.
void refuse_divergence(const DistillSummary& s, double max_ratio, int round);

// The stage of round `round`: from the model as the previous round left it (round-0000's
// weights with distill.init base), on the round's examples (distill_examples); refused as
// above when it diverged, and an Internal error when its weights are not finite, before
// anything of it is saved.
DistillSummary distill_round(RunContext& ctx, Gpt& model, int round, const std::vector<DistillExample>& examples);

// The stage's file: the weights with the summary and the round as metadata, written under a
// temporary name and renamed; read back into `model` (on the run's device) with its summary.
void save_distilled(const std::filesystem::path& file, Gpt& model, const DistillSummary& summary, int round);
DistillSummary load_distilled(const std::filesystem::path& file, const RunContext& ctx, Gpt& model);

// The stage as a round stores it (trainers/run/round_store.h): the distilled weights,
// model.safetensors. Its examples are built only when it runs (a resumed round reads none).
struct Distill {
  static constexpr const char* name = "distill";
  static constexpr const char* file = "model.safetensors";
  RunContext& ctx;
  Gpt& model;
  const Round& round;
  const Candidates& candidates;
  const std::vector<Kept>& kept;
  DistillSummary run() const {
    return distill_round(ctx, model, round.index, distill_examples(ctx, round.index, round.prompts, candidates, kept));
  }
  DistillSummary read(const std::filesystem::path& dir) const { return load_distilled(dir / file, ctx, model); }
  void write(const std::filesystem::path& dir, const DistillSummary& d) const {
    save_distilled(dir / file, model, d, round.index);
  }
};

}  // namespace mg
