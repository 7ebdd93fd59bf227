#pragma once
// Weights kept along pretraining (pretrain.keep_at), the points of a sweep: after step s the
// model is written to <run>/snapshots/step-<s>.safetensors, with the step, the tokens and the
// training FLOPs so far in its metadata, and its checksum in <run>/snapshots/MANIFEST. A
// resumed pretraining writes the same bytes again for the steps it redoes.
#include <torch/torch.h>

#include <filesystem>

#include "core/run/run_dir.h"
#include "models/gpt.h"

namespace mg {

struct SnapshotInfo {
  int step = 0;
  double tokens = 0;  // non-pad tokens trained on, all ranks
  double flops = 0;   // training FLOPs so far (models/flops.h)
};

std::filesystem::path snapshot_path(const RunDir& run, int step);

void save_snapshot(const RunDir& run, const SnapshotInfo& info, Gpt& model);

// Loads the snapshot of `step` into `model` after checking it against the MANIFEST; BadInput
// naming the file when it is missing, damaged or not finite.
SnapshotInfo load_snapshot(const RunDir& run, int step, Gpt& model, const torch::Device& device);

}  // namespace mg
