#include "trainers/stages/generate.h"

#include "trainers/sampling/answers.h"
#include "trainers/run/sample_io.h"
#include "trainers/run/seeds.h"

namespace mg {

std::vector<ScoredSample> stage_generate(RunContext& ctx, Gpt& model, const Round& round) {
  const std::vector<Problem>& problems = round.problems;
  const auto& imp = ctx.recipe.improve;
  GenerateRequest req;
  std::vector<int> mine;
  for (int p = ctx.comm->rank(); p < static_cast<int>(problems.size()); p += ctx.comm->world_size()) {
    mine.push_back(p);
    req.prompts.push_back(problems[p].prompt);
    req.prompt_ids.push_back(static_cast<uint64_t>(p));
  }
  req.samples = imp.samples_per_prompt;
  req.sampling = imp.sampling;
  req.seed = derive_seed(ctx.recipe.run.seed, SeedPurpose::Sampling, {static_cast<uint64_t>(round.index)});
  req.max_new_tokens = max_answer_tokens(*ctx.task, round.difficulty);
  std::vector<ScoredSample> out;
  if (!mine.empty()) {
    auto answers = generate_answers(model, *ctx.tokenizer, req, ctx.device);
    for (size_t i = 0; i < mine.size(); ++i)
      for (int s = 0; s < req.samples; ++s) {
        ScoredSample x;
        x.prompt = mine[i];
        x.sample = s;
        x.answer = answers[i][s];
        x.correct = ctx.task->grade(problems[mine[i]].prompt, x.answer);  // grade: metrics (and oracle) only
        out.push_back(std::move(x));
      }
  }
  return gather_samples(*ctx.comm, out);
}

std::vector<ScoredSample> Generate::read(const std::filesystem::path& dir) const {
  return read_samples(dir / file);
}

void Generate::write(const std::filesystem::path& dir, const std::vector<ScoredSample>& samples) const {
  write_samples(dir / file, samples, /*with_score=*/false);
}

}  // namespace mg
