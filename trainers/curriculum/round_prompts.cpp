#include "trainers/curriculum/round_prompts.h"

#include "trainers/curriculum/curriculum.h"
#include "trainers/run/seeds.h"

namespace mg {

std::vector<Problem> round_problems(const RunContext& ctx, int round) {
  std::vector<Problem> out;
  uint64_t s = derive_seed(ctx.recipe.run.seed, SeedPurpose::RoundPrompts, {static_cast<uint64_t>(round)});
  Range d = round_difficulty(ctx, round);
  for (int p = 0; p < ctx.recipe.improve.prompts_per_round; ++p)
    out.push_back(ctx.task->generate(s, static_cast<uint64_t>(p), d));
  return out;
}

std::vector<std::string> prompt_texts(const std::vector<Problem>& problems) {
  std::vector<std::string> out;
  out.reserve(problems.size());
  for (const auto& p : problems) out.push_back(p.prompt);
  return out;
}

Round make_round(const RunContext& ctx, int index) {
  Round round;
  round.index = index;
  round.difficulty = round_difficulty(ctx, index);
  round.problems = round_problems(ctx, index);
  round.prompts = prompt_texts(round.problems);
  return round;
}

}  // namespace mg
