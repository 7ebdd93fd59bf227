#pragma once
// Held-out evaluation shared by pretraining, the round loop and `mindgap eval`: greedy accuracy,
// verdict accuracy / AUROC on held-out verification examples (half correct, half near-miss),
// and the AUROC of the self-verification score on the model's own samples. Work is sharded by
// rank and the counts are combined, so every rank returns the same numbers.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/distributed/communicator.h"
#include "core/recipe/recipe.h"
#include "core/tasks/task.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"
#include "trainers/run/run_context.h"

namespace mg {

// The held-out prompts of a difficulty: seeded apart from every training stream.
std::vector<Problem> eval_problems(const Task& task, uint64_t seed, Range difficulty, int n);

// A difficulty as the metrics name it: "4", or "1-3" for a range.
inline std::string difficulty_label(Range d) {
  return d.lo == d.hi ? std::to_string(d.lo) : std::to_string(d.lo) + "-" + std::to_string(d.hi);
}

double greedy_accuracy(Gpt& model, const Tokenizer& tokenizer, const Task& task, const std::vector<Problem>& problems,
                       Communicator& comm, const torch::Device& device);

// With verify method tournament, a candidate's score is its mean win against one of the other
// kind (the answer, or a near miss) played in both orders; otherwise the mc or score verdict.
struct VerdictEval {
  double accuracy = 0;  // score > 0.5 agrees with the truth
  double auroc = 0.5;
};
VerdictEval verdict_eval(Gpt& model, const Tokenizer& tokenizer, const Task& task, const std::vector<Problem>& problems,
                         const VerifyConfig& verify, uint64_t seed, Communicator& comm, const torch::Device& device);

// pass@k for each k of `ks` (ascending) on `problems`: max(ks) samples per prompt drawn with
// `sampling` from `seed` for this measurement only, the unbiased estimator averaged over the
// prompts (the same numbers on every rank).
std::vector<double> pass_at(Gpt& model, const Tokenizer& tokenizer, const Task& task, const std::vector<Problem>& problems,
                            const std::vector<int>& ks, const SamplingConfig& sampling, uint64_t seed,
                            Communicator& comm, const torch::Device& device);

// improve.pass_at of round `round`'s model as a record, {"<k>": pass@k, ...}, on
// improve.pass_at_prompts held-out prompts at the round's difficulty; null when the recipe
// measures none. Seeded by the round: a resumed round measures the same.
nlohmann::json pass_at_record(RunContext& ctx, Gpt& model, int round);

// Gathers a vector of doubles from every rank, in rank order.
std::vector<double> gather_doubles(Communicator& comm, const std::vector<double>& mine);

}  // namespace mg
