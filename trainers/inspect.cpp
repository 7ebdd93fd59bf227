#include "trainers/inspect.h"

#include "core/errors.h"
#include "core/run/checkpoint.h"
#include "trainers/curriculum/curriculum.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/sample_io.h"
#include "trainers/stages/evaluate_held_out.h"

namespace mg {

nlohmann::json evaluate_checkpoint(RunContext& ctx, Gpt& model) {
  nlohmann::json out;
  for (const auto& d : run_difficulties(ctx.recipe)) {
    auto problems = eval_problems(*ctx.task, ctx.recipe.run.seed, d, ctx.recipe.task.eval_prompts);
    const std::string key = std::to_string(d.lo) + "-" + std::to_string(d.hi);
    out["greedy"][key] = greedy_accuracy(model, *ctx.tokenizer, *ctx.task, problems, *ctx.comm, ctx.device);
    auto v = verdict_eval(model, *ctx.tokenizer, *ctx.task, problems, ctx.recipe.improve.verify, ctx.recipe.run.seed,
                          *ctx.comm, ctx.device);
    out["verdict_acc"][key] = v.accuracy;
    out["verdict_auroc"][key] = v.auroc;
  }
  return out;
}

std::optional<std::string> schedule_overrides(RunContext& ctx) {
  if (!adaptive_curriculum(ctx.recipe)) return std::nullopt;
  const int latest = latest_good_round(ctx.run);
  if (latest < 1) fail_input(ctx.run.root.string() + ": no complete improvement round, so no schedule to replay");
  std::string values;
  for (int r = 1; r <= latest; ++r) values += (r > 1 ? ", " : "") + std::to_string(round_difficulty(ctx, r).lo);
  return "improve.rounds=" + std::to_string(latest) + "\n" + "improve.curriculum={" + ctx.task->difficulty_key() +
         ": [" + values + "]}\n" + "improve.advance.kept_share=0\n";
}

std::vector<nlohmann::json> slice_records(RunContext& ctx, int first, int last) {
  std::vector<nlohmann::json> records;
  for (int r = first; r <= last; ++r) {
    const RoundKept got = read_round_kept(ctx.run.round(r), "slices splits its kept samples");
    const Range d = round_difficulty(ctx, r);
    for (const auto& s : slice_stats(*ctx.task, prompt_texts(round_problems(ctx, r)), got.scored, got.kept)) {
      nlohmann::json j = {{"round", r}, {"difficulty", {d.lo, d.hi}}};
      j.update(to_json(s));
      records.push_back(std::move(j));
    }
  }
  return records;
}

}  // namespace mg
