#include "trainers/training/pretrain_data.h"

#include <algorithm>

#include "trainers/run/seeds.h"

namespace mg {

Example pretrain_example(const Task& task, const Recipe& recipe, uint64_t seed, uint64_t step, uint64_t index,
                         Range difficulty) {
  uint64_t h = derive_seed(seed, SeedPurpose::PretrainData, {step, index});
  Problem p = task.generate(h, 0, difficulty);
  if (unit_from(h ^ 1) >= recipe.pretrain.verify_fraction) return generation_example(p);
  const auto formats = trained_verify_formats(recipe);
  const std::string& format = formats[static_cast<size_t>(unit_from(h ^ 2) * formats.size())];
  bool correct = unit_from(h ^ 3) < 0.5;
  std::string candidate = correct ? p.answer : task.wrong_answer(p, h ^ 4);
  return verification_example(task, p, candidate, format, static_cast<float>(recipe.pretrain.verdict_weight));
}

}  // namespace mg
