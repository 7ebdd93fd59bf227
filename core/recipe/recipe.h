#pragma once
// A recipe: one YAML file per task, loaded into typed structs. Every key is checked
// (unknown keys, types, ranges, required keys); `key=value` overrides get the same checks.
// Defaults live here, next to the field they belong to.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/recipe/methods.h"

namespace mg {

// A difficulty range, e.g. operand digits [1, 3] or sudoku holes [4, 6].
struct Range {
  int lo = 1;
  int hi = 1;
  bool operator==(const Range&) const = default;
};

struct TaskConfig {
  std::string name;          // addition | multiplication | sudoku
  Range digits{1, 3};        // addition, multiplication: operand length range
  int size = 4;              // sudoku: 4 or 9
  Range holes{4, 6};         // sudoku: empty cells per puzzle
  bool reverse_answer = true;  // arithmetic answers least-significant digit first
  // Arithmetic operands written least-significant digit first too, and zero-padded to pad_to
  // digits (0: unpadded). Together they give every problem of the task one layout, in which
  // answer digit i sits at the same distance from operand digits i at every i and length:
  // what lets rope/none positions carry an algorithm to lengths never trained on.
  bool reverse_operands = false;
  int pad_to = 0;
  int eval_prompts = 500;    // held-out prompts for greedy accuracy
};

struct TokenizerConfig {
  int vocab_size = 64;
};

struct ModelConfig {
  int n_layer = 4;
  int n_head = 4;
  int d_model = 128;
  int max_seq = 64;
  double dropout = 0.0;
  std::string pos = "rope";  // learned | rope | none
};

struct PretrainConfig {
  int steps = 2000;
  int batch = 128;
  double lr = 1.0e-3;
  int warmup = 100;
  double min_lr_ratio = 0.1;   // cosine decays to lr * min_lr_ratio
  double weight_decay = 0.1;
  double grad_clip = 1.0;
  int grad_accum = 1;
  double verify_fraction = 0.5;  // share of verification examples in a batch
  double verdict_weight = 1.0;   // loss weight of verdict tokens
  int eval_every = 250;
  int log_every = 50;
  // Stop at the first eval (every eval_every steps) whose held-out greedy accuracy reaches
  // this: studies start every seed from the same accuracy, not the same step count (seeds
  // cross the same accuracy hundreds of steps apart). Above 1: off, run every step.
  double stop_at_greedy = 2.0;
  // Steps after which the weights are also kept in <run>/snapshots/ (the points of a sweep
  // along one pretraining); ascending, each at most `steps`.
  std::vector<int> keep_at;
};

struct SamplingConfig {
  double temperature = 1.0;
  int top_k = 0;       // 0: off
  double top_p = 1.0;  // 1: off
  double min_p = 0.0;  // 0: off
};

struct VerifyConfig {
  std::string method = "mc";      // a name of kVerifyMethods (core/recipe/methods.h)
  std::string format = "cot";     // direct | cot
  std::vector<std::string> ensemble{"mc", "consistency"};  // methods combined by `ensemble`
  CombineBy combine = CombineBy::Mean;  // ensemble: mean | and
  // equivalent: how many equivalent prompts each prompt is rewritten as (the first is b+a;
  // more than one needs addition, whose further rewrites split the same sum differently).
  int rewrites = 1;
  // equivalent: how many shifted rewrites vote as well (addition: the leading digits
  // lowered, so that the answer is the original's minus a known offset; docs/loop.md).
  int shifted = 0;
  // equivalent: how a shifted rewrite's answer is moved back. exact: the offset added by
  // exact arithmetic outside the model; model: the model answers the sum of the answer's
  // leading digits and the offset's, a problem within its training lengths, and that sum
  // sits above the answer's lower digits (RewritingTask::offset_sum_prompt; docs/loop.md).
  OffsetBy offset = OffsetBy::Exact;
  // equivalent: how many split rewrites vote as well (addition: the problem worked out by the
  // model from sums about half its length, a carry passed between them; RewritingTask::split_step,
  // docs/loop.md).
  int split = 0;
  // peers: other run directories of the same task, trained with other seeds, whose models
  // vote on this run's samples (the `peers` verifier).
  std::vector<std::string> peers;
};

struct FilterConfig {
  std::string method = "quantile";  // a name of kFilterMethods (core/recipe/methods.h)
  double keep = 0.5;                // quantile: share kept
  FilterScope scope = FilterScope::PerPrompt;  // per_prompt | global
  double threshold = 0.5;           // threshold: minimum score
  double temperature = 1.0;         // reweight: weights ∝ exp(score / temperature)
  bool dedup = true;                // identical samples kept once per prompt
  // threshold with verify method equivalent: fallback check trains a prompt none of whose
  // samples passed on the answer the check's own votes give most, when its share reaches the
  // threshold (the check works the problem out in smaller steps; docs/loop.md "Falling back on
  // the check's answer").
  FilterFallback fallback = FilterFallback::None;
};

struct DistillConfig {
  int steps = 300;
  int batch = 64;
  double lr = 3.0e-4;
  double replay = 0.5;            // share of pretraining-style examples mixed back in
  DistillInit init = DistillInit::Previous;  // previous | base
  // Also train on the samples every earlier round of the run kept (a curriculum keeps
  // training on the lengths it has passed), not only on this round's.
  bool accumulate = false;
  // A round whose distillation loss ends (mean of its last steps) above this many times its
  // first step's loss has diverged and is not committed; 0: no check. Chosen from
  // measurements (docs/reliability.md).
  double max_loss_ratio = 2.5;
};

// A curriculum that moves on when the model has mastered a length, judged without labels: after
// a round whose filter kept at least `kept_share` of its samples (the self-verifier accepts
// most answers only when most are right), or after `max_rounds` rounds at one value. The
// curriculum's values are then steps, not rounds, and the loop stops once the last step
// passes. kept_share 0 (the default) keeps the per-round curriculum.
struct AdvanceConfig {
  double kept_share = 0.0;
  int max_rounds = 0;  // 0: no cap
};

struct ImproveConfig {
  int rounds = 3;
  int prompts_per_round = 1000;
  int samples_per_prompt = 8;
  // Per-round difficulty: key (digits | holes) -> value for round 1, 2, ... (optional).
  std::map<std::string, std::vector<int>> curriculum;
  AdvanceConfig advance;
  SamplingConfig sampling;
  VerifyConfig verify;
  FilterConfig filter;
  DistillConfig distill;
  int pass_k = 8;                               // k of pass@k (at most samples_per_prompt)
  // pass@k of each round's model on held-out prompts, for each k, from max(k) samples per
  // prompt drawn for this measurement only (never trained on); empty: not measured.
  std::vector<int> pass_at;
  int pass_at_prompts = 128;
  double stop_when_relative_gap_below = -1.0e9; // effectively off unless set
};

struct RunConfig {
  std::string dir = "runs/default";
  long long seed = 1;
  std::string device = "auto";     // auto | cpu | cuda
  std::string precision = "auto";  // auto | fp32 | bf16
  int threads = 2;
  // Seconds a collective waits for the other ranks before the job is ended (a stuck rank).
  double dist_timeout_s = 600;
  // Gradients all-reduced bucket by bucket while the backward pass still runs (false: after it).
  bool overlap_grad_sync = true;
  // A training step with a non-finite loss or gradient norm: stop (an error naming the stage,
  // round and step) or skip (drop the update, count it).
  std::string nonfinite = "stop";
};

// `mindgap sweep`: the gap against pretraining compute (trainers/sweep.h). Each shape is
// pretrained once, to the largest of at_steps, and the gap of every method is measured at each
// of at_steps on the same samples.
struct SweepConfig {
  std::vector<std::string> shapes;  // "<n_layer>x<d_model>" or "<n_layer>x<d_model>x<n_head>"
  std::vector<int> at_steps;        // ascending
  // Verify methods, a format after a dash where it matters: mc-direct, mc-cot, score, consistency...
  std::vector<std::string> methods;
};

struct Recipe {
  std::string source;  // where it was read from (for messages)
  TaskConfig task;
  TokenizerConfig tokenizer;
  ModelConfig model;
  PretrainConfig pretrain;
  ImproveConfig improve;
  SweepConfig sweep;
  RunConfig run;
};

// Loads `path`, applies `overrides` ("a.b=value"), validates. Throws mg::Error (BadInput)
// with "<file>: <key>: <what is wrong>" on the first problem.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});
// Parses YAML text (as if read from `source`); used by tests and by resume.
Recipe parse_recipe(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides = {});

// The resolved recipe as YAML (every key, defaults filled in); parse_recipe(to_yaml(r)) == r.
std::string recipe_to_yaml(const Recipe& recipe);
// Flat "a.b.c" -> value text, for comparing recipes.
std::map<std::string, std::string> flatten_recipe(const Recipe& recipe);
// Keys whose values differ and that change results (run.dir, run.threads, the distributed
// timeout and gradient overlap, improve.rounds and the stop rule may change on resume).
std::vector<std::string> result_changing_differences(const Recipe& a, const Recipe& b);

// The difficulty of round `round` (0 = pretraining) under a per-round curriculum: the task's
// range, or the curriculum's value. An adaptive curriculum (improve.advance) also depends on
// the rounds run so far: see round_difficulty in the trainers' run bookkeeping.
Range difficulty_for_round(const Recipe& recipe, int round);
// The curriculum's values as ranges, in order (empty without a curriculum).
std::vector<Range> curriculum_steps(const Recipe& recipe);
// Whether improve.advance makes the curriculum move on by the kept share.
inline bool adaptive_curriculum(const Recipe& recipe) { return recipe.improve.advance.kept_share > 0; }
// The verify method is `method`, or an ensemble that includes it.
inline bool verify_uses(const VerifyConfig& verify, VerifyMethod method) {
  const std::string name = name_of(method);
  return verify.method == name ||
         (verify.method == name_of(VerifyMethod::Ensemble) &&
          std::find(verify.ensemble.begin(), verify.ensemble.end(), name) != verify.ensemble.end());
}
// A sweep method's verify settings: `base` with the method (and the format after a dash, as
// in mc-direct) of `name`. The name is checked with the recipe (sweep.methods).
// The control arms of a sweep, none (every sample: the gap is 0 by construction) and oracle
// (the grader's correct samples: the ceiling), are filters that read no score.
inline bool sweep_control_arm(const std::string& name) {
  return name == name_of(FilterMethod::None) || name == name_of(FilterMethod::Oracle);
}
inline VerifyConfig sweep_method_verify(VerifyConfig base, const std::string& name) {
  if (sweep_control_arm(name)) return base;  // no verifier runs
  const auto dash = name.find('-');
  base.method = name.substr(0, dash);
  if (dash != std::string::npos) base.format = name.substr(dash + 1);
  return base;
}
// The pairwise format that verify method tournament reads (core/tasks/verification.h).
inline constexpr const char* kPairFormat = "pair";
// The verdict formats a verify method reads: its format for mc, "score" for score, the pairwise
// format for tournament (an ensemble: those of its methods). Empty for methods that read none.
inline std::vector<std::string> formats_read(const VerifyConfig& v) {
  std::vector<std::string> out;
  if (verify_uses(v, VerifyMethod::Mc)) out.push_back(v.format);
  if (verify_uses(v, VerifyMethod::Score)) out.push_back("score");
  if (verify_uses(v, VerifyMethod::Tournament)) out.push_back(kPairFormat);
  return out;
}
// The verification formats pretraining (and distillation's replay) teaches: those the verify
// method reads, or its format when it reads none (consistency needs no verifier, but the
// verdict is still taught so that `mindgap gap` can compare methods on the same checkpoint);
// then those the sweep's methods read that are not yet in the list.
inline std::vector<std::string> trained_verify_formats(const Recipe& recipe) {
  std::vector<std::string> formats;
  auto put = [&formats](const std::vector<std::string>& fs) {
    for (const auto& f : fs)
      if (std::find(formats.begin(), formats.end(), f) == formats.end()) formats.push_back(f);
  };
  const auto& verify = recipe.improve.verify;
  put(formats_read(verify).empty() ? std::vector<std::string>{verify.format} : formats_read(verify));
  // consistency and the control arms read no verdict: they add nothing to what is taught.
  for (const auto& m : recipe.sweep.methods)
    if (!sweep_control_arm(m)) put(formats_read(sweep_method_verify(verify, m)));
  return formats;
}
// Whether a run's tokenizer needs the pairwise format's tokens.
inline bool teaches_pairs(const Recipe& recipe) {
  const auto formats = trained_verify_formats(recipe);
  return std::find(formats.begin(), formats.end(), kPairFormat) != formats.end();
}

}  // namespace mg
