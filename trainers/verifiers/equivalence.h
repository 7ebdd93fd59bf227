#pragma once
// Verify method `equivalent`: the share of the model's answers to equivalent prompts (the
// task's rewrites with the same correct answer: b+a for a+b, then other splits of the same
// sum when verify.rewrites > 1) that equal this sample's answer. With verify.shifted > 0 the
// answers to that many shifted rewrites vote too, each moved back by the rewrite's known
// offset (RewritingTask::shift_answer): a same-sum rewrite cannot catch a dropped carry into a new
// digit, because every one of them has that carry; a rewrite with lowered leading digits
// seldom has it. With offset_by_model off, the move back is exact arithmetic on the model's
// answer, so that check is label-free but not the model's alone (docs/loop.md, "Shifted rewrites").
// With it on, the model makes that carry itself: it answers, greedily, the sum of the shifted
// answer's leading digits and the offset's (RewritingTask::offset_sum_prompt, a short problem), and its
// answer is put above the shifted answer's lower digits.
// With verify.split > 0 that many split rewrites vote too (RewritingTask::split_step): the model works
// the problem out from problems about half its size, the first sampled as every rewrite is,
// the later ones (a carry added, the upper parts summed) answered greedily, so that a model
// one digit past its training lengths checks a long answer with sums within them.
// Majority vote cannot catch a mistake the model makes on most samples of one prompt; a
// mistake that comes from how the problem is written is often not made on the rewrite.
// The answers to the rewrite are sampled as the generate stage samples, seeded by (seed,
// prompt index, sample), so a score does not depend on batch size or rank.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/recipe/recipe.h"
#include "core/tasks/rewriting_task.h"
#include "core/tasks/task.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"
#include "trainers/run/scored_sample.h"

namespace mg {

struct EquivalentSampling {
  const Task* task = nullptr;  // its rewriter() gives the rewrites; null: the method cannot run
  int samples = 8;             // answers drawn per equivalent prompt
  int rewrites = 1;            // equivalent prompts per prompt (equivalent_prompt 0..n-1)
  int shifted = 0;             // shifted prompts per prompt (shifted_prompt 0..n-1)
  bool offset_by_model = false;  // the model adds the offset back, not exact arithmetic
  int split = 0;               // split rewrites per prompt (split_step 0..n-1)
  SamplingConfig sampling;
  uint64_t seed = 0;
  int max_new_tokens = 16;
};

// The rewrites a recipe's verify section asks for (rewrites, shifted, offset, split) of
// `task`'s prompts; the caller sets how they are sampled.
EquivalentSampling equivalent_rewrites(const Task* task, const VerifyConfig& verify);

// Answers short prompts (the offset sums of verify.offset: model, the later steps of split
// rewrites), one answer per prompt.
using SumAnswerer = std::function<std::vector<std::string>(const std::vector<std::string>& prompts)>;

// Every shifted answer moved back by the answers `answer_sums` gives to their offset sums, in
// place: answers[i] are the answers to rewrite i, written from prompt originals[i] with offset
// offsets[i] (empty: a same-sum rewrite, left as it is). Each distinct sum is asked once, so
// every answer that needs the same sum gets the same one. An answer, or a sum, that cannot be
// read becomes "\0", the vote no sample equals.
void move_back_by_sums(const RewritingTask& task, const std::vector<std::string>& originals,
                       const std::vector<std::string>& offsets, std::vector<std::vector<std::string>>& answers,
                       const SumAnswerer& answer_sums);

// Every answer to the first step of a split rewrite carried through the split's later steps,
// in place: answers[i] are the answers to rewrite i, written from prompt originals[i] as split
// rewrite splits[i] (negative: not a split rewrite, left as it is). Each step's distinct
// problems are asked of `answer_steps` once, so chains that reach the same problem get the
// same answer. A chain whose answer cannot be read becomes "\0", the vote no sample equals.
void finish_splits(const RewritingTask& task, const std::vector<std::string>& originals, const std::vector<int>& splits,
                   std::vector<std::vector<std::string>>& answers, const SumAnswerer& answer_steps);

// One score in [0, 1] per sample. `prompts[p]` is the prompt of samples with prompt index p.
// BadInput when the task has no equivalent (or shifted, or split) prompt. With `top`, also the
// answer the rewrites' votes give most for each prompt, with its share (top_votes): the
// check's own answer, which filter.fallback check trains on where no sample passed.
std::vector<double> equivalence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<ScoredSample>& samples, const EquivalentSampling& how,
                                       const torch::Device& device, std::vector<ScoredSample>* top = nullptr);

}  // namespace mg
