#pragma once
// Checkpoints inside pretraining. At each eval point (pretrain.eval_every) rank 0 saves the
// weights, the optimizer and the counters into round-0000.tmp, so that a run killed during
// pretraining resumes from the last one instead of step 0. The resumed run ends bit-identical
// to an uninterrupted one on the CPU: batches depend only on (seed, step, index) and the
// learning rate only on the step (with model.dropout 0, which draws from torch's generator).
#include <filesystem>
#include <optional>

#include <torch/optim/optimizer.h>

#include "models/gpt.h"

namespace mg {

struct PretrainProgress {
  int step = 0;  // steps done
  double tokens = 0, flops = 0, seconds = 0;
  int skipped = 0;  // steps dropped for non-finite numbers (run.nonfinite=skip)
};

// pretrain-<step>.safetensors and pretrain-<step>.optimizer.pt, then pretrain.json naming
// them (written last, atomically: a kill before it leaves the previous checkpoint in force),
// then the previous step's files are removed.
void save_pretrain_checkpoint(const std::filesystem::path& dir, const PretrainProgress& progress, Gpt& model,
                              torch::optim::Optimizer& optimizer);

// The counters of the checkpoint in `dir`, with its state loaded into model and optimizer;
// nullopt when there is none. A checkpoint that cannot be read is reported (log::warn, with
// the cause) and ignored: pretraining starts again from step 0, which gives the same result.
std::optional<PretrainProgress> load_pretrain_checkpoint(const std::filesystem::path& dir, Gpt& model,
                                                         torch::optim::Optimizer& optimizer,
                                                         const torch::Device& device);

// Removes the checkpoint files, so that the committed round-0000 holds only its own.
void remove_pretrain_checkpoint(const std::filesystem::path& dir);

}  // namespace mg
