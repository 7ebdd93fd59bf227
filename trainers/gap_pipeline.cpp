#include "trainers/gap_pipeline.h"

#include <utility>

#include "trainers/run/seeds.h"
#include "trainers/sampling/answers.h"

namespace mg {

GapArm recipe_arm(const Recipe& recipe) {
  return {recipe.improve.verify, recipe.improve.filter, recipe.improve.pass_k};
}

GapArm study_arm(const Recipe& recipe, const std::string& method) {
  GapArm arm = recipe_arm(recipe);
  if (sweep_control_arm(method)) {
    arm.verify.reset();
    arm.filter.method = method;
  } else {
    arm.verify = sweep_method_verify(recipe.improve.verify, method);
  }
  return arm;
}

GapMeasure measure_gap(RoundStore& store, RunContext& ctx, Gpt& model, const Round& round) {
  return measure_gap_of(store, ctx, model, round, store.run(Generate{ctx, model, round}), recipe_arm(ctx.recipe));
}

GapMeasure measure_gap_of(RoundStore& store, RunContext& ctx, Gpt& model, const Round& round,
                          std::vector<ScoredSample> samples, const GapArm& arm) {
  GapMeasure m;
  if (arm.verify)
    m.verified = store.run(Verify{ctx, model, round, samples, *arm.verify});
  else
    m.verified.samples = std::move(samples);
  Filtered filtered = filter_round(m.verified, arm.filter);
  m.gap = gap_metrics(m.verified.samples, filtered.selected, arm.pass_k);  // recomputed on a resume
  m.filtered.selected = std::move(filtered.selected);
  m.filtered.kept = store.run(Keep{std::move(filtered.kept)});
  return m;
}

nlohmann::json checkpoint_gap(RunContext& ctx, Gpt& model, int round) {
  RoundStore store = RoundStore::in_memory(ctx);
  const Round next = make_round(ctx, round + 1);
  const GapMeasure m = measure_gap(store, ctx, model, next);
  // With filter.fallback check, the check's answers the next round would train on, counted apart.
  return gap_record(ctx.recipe, round, m.gap, m.filtered.kept, m.verified);
}

std::vector<ScoredSample> scored_answers(RunContext& ctx, Gpt& model, const std::string& prompt, int n) {
  GenerateRequest req;
  req.prompts = {prompt};
  req.samples = n;
  req.sampling = ctx.recipe.improve.sampling;
  if (n == 1) req.sampling.temperature = 0.0;  // one answer: the greedy one
  req.seed = ctx.recipe.run.seed;
  req.max_new_tokens = ctx.recipe.model.max_seq / 2;
  const auto answers = generate_answers(model, *ctx.tokenizer, req, ctx.device)[0];
  std::vector<ScoredSample> samples;
  for (int s = 0; s < n; ++s) samples.push_back({0, s, answers[s], 0.0, ctx.task->grade(prompt, answers[s])});
  // One prompt outside any round: the verifiers are seeded by the run alone, and no peers vote.
  VerifierDraws draws;
  draws.samples = n;
  draws.sampling = req.sampling;
  draws.max_new_tokens = req.max_new_tokens;
  draws.max_derivation_tokens = req.max_new_tokens;
  draws.equivalent_seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::EquivalentSampling);
  const Verifiers verifiers = make_verifiers(ctx, ctx.recipe.improve.verify, draws);
  self_verify(model, *ctx.tokenizer, verifiers, {prompt}, samples, ctx.device);
  return samples;
}

}  // namespace mg
