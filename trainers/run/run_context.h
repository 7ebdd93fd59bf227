#pragma once
// What every stage of a run shares: the recipe, the run directory, this rank's place in the
// job, the device, the task, the tokenizer and the metrics log. Built once by open_run.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run/checkpoint.h"
#include "core/distributed/communicator.h"
#include "core/report/metrics.h"
#include "core/recipe/recipe.h"
#include "core/run/run_dir.h"
#include "core/run/run_lock.h"
#include "core/tasks/task.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"

namespace mg {

struct RunContext {
  Recipe recipe;
  RunDir run;
  torch::Device device{torch::kCPU};
  std::string precision;  // fp32 | bf16
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<Task> task;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<MetricsLog> metrics;
  std::unique_ptr<RunLock> lock;  // held by the writer (rank 0) of a run opened to write
  // The records (state.json) of rounds 1..n of this run, each read once, when the adaptive
  // curriculum first needs it (trainers/curriculum/curriculum.h): a committed round does not change.
  mutable std::vector<nlohmann::json> committed_rounds;
  bool writer() const { return comm->rank() == 0; }
};

// Validates the run directory on every rank, creates it on rank 0, picks the device and the
// thread count, trains or reloads the tokenizer. `create` = false opens an existing run as it
// is, for reading (its recipe may be overridden for an offline study): no lock, no writes.
// `create` = true takes the run's lock on rank 0 first (core/run/run_lock.h): a second writer is
// refused with BadInput on every rank.
// `from` (optional) forks the new run from another run's round-0000 first (rank 0 does it).
RunContext open_run(const Recipe& recipe, bool create = true, const std::string& from = "");
// Opens an existing run directory from its own recipe.yaml (eval, gap, sample, compare).
RunContext open_existing_run(const std::string& run_dir, const std::vector<std::string>& overrides = {});

// A freshly initialised model (seeded by the run seed), on the run's device.
Gpt make_model(const RunContext& ctx);
// Loads round `round`'s weights into `model` (checked by the round's MANIFEST first).
void load_round_weights(const RunContext& ctx, int round, Gpt& model);
// The same for any run directory (a peer's), onto `device`.
void load_round_weights(const RunDir& run, int round, Gpt& model, const torch::Device& device);

// Every difficulty the run can touch: pretraining's range and each curriculum value of its
// improve.rounds rounds (every value of an adaptive curriculum), in order.
std::vector<Range> run_difficulties(const Recipe& recipe);

}  // namespace mg
