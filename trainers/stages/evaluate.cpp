#include "trainers/stages/evaluate.h"

#include "trainers/curriculum/curriculum.h"
#include "trainers/stages/evaluate_held_out.h"

namespace mg {

nlohmann::json held_out_accuracy(RunContext& ctx, Gpt& model, int round) {
  nlohmann::json greedy = nlohmann::json::object();
  for (const auto& d : difficulties_so_far(ctx, round)) {
    auto problems = eval_problems(*ctx.task, ctx.recipe.run.seed, d, ctx.recipe.task.eval_prompts);
    greedy[difficulty_label(d)] = greedy_accuracy(model, *ctx.tokenizer, *ctx.task, problems, *ctx.comm, ctx.device);
  }
  return greedy;
}

}  // namespace mg
