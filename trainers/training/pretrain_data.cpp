#include "trainers/training/pretrain_data.h"

#include <algorithm>

#include "trainers/run/seeds.h"

namespace mg {
namespace {

// A pairwise example (verify method tournament) from the bits of `h`: the answer against a near
// miss in either order (80%), two near misses (15%), the answer against itself (5%: teaches
// kBoth, which a tournament reads when all of a prompt's samples agree).
Example pair_training_example(const Task& task, const Problem& p, uint64_t h, float verdict_weight) {
  const double u = unit_from(h ^ 5);
  const std::string wrong = task.wrong_answer(p, h ^ 6);
  if (u < 0.4) return pair_example(task, p, p.answer, wrong, verdict_weight);
  if (u < 0.8) return pair_example(task, p, wrong, p.answer, verdict_weight);
  if (u < 0.95) return pair_example(task, p, wrong, task.wrong_answer(p, h ^ 7), verdict_weight);
  return pair_example(task, p, p.answer, p.answer, verdict_weight);
}

}  // namespace

Example pretrain_example(const Task& task, const Recipe& recipe, uint64_t seed, uint64_t step, uint64_t index,
                         Range difficulty) {
  uint64_t h = derive_seed(seed, SeedPurpose::PretrainData, {step, index});
  Problem p = task.generate(h, 0, difficulty);
  if (unit_from(h ^ 1) >= recipe.pretrain.verify_fraction) return generation_example(p);
  const auto formats = trained_verify_formats(recipe);
  const std::string& format = formats[static_cast<size_t>(unit_from(h ^ 2) * formats.size())];
  if (format == kPairFormat) return pair_training_example(task, p, h, static_cast<float>(recipe.pretrain.verdict_weight));
  bool correct = unit_from(h ^ 3) < 0.5;
  std::string candidate = correct ? p.answer : task.wrong_answer(p, h ^ 4);
  return verification_example(task, p, candidate, format, static_cast<float>(recipe.pretrain.verdict_weight));
}

}  // namespace mg
