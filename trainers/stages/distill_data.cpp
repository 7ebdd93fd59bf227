#include "trainers/stages/distill_data.h"

#include <map>

#include "core/errors.h"
#include "trainers/curriculum/round_prompts.h"
#include "trainers/run/sample_io.h"

namespace mg {

std::vector<DistillExample> kept_examples(const std::vector<std::string>& prompts, const Candidates& candidates,
                                          const std::vector<Kept>& kept) {
  std::map<std::pair<int, int>, const ScoredSample*> by_id;  // every candidate: samples and the check's
  for (const auto& s : candidates.samples) by_id[{s.prompt, s.sample}] = &s;
  for (const auto& a : candidates.check) by_id[{a.prompt, a.sample}] = &a;
  std::vector<DistillExample> out;
  out.reserve(kept.size());
  for (const Kept& k : kept) {
    auto it = by_id.find({k.prompt, k.sample});
    if (it == by_id.end() || k.prompt < 0 || static_cast<size_t>(k.prompt) >= prompts.size())
      fail_internal("kept sample (" + std::to_string(k.prompt) + ", " + std::to_string(k.sample) +
                    ") is not among the round's samples");
    out.push_back({Problem{prompts[static_cast<size_t>(k.prompt)], it->second->answer}, k.weight});
  }
  return out;
}

std::vector<DistillExample> distill_examples(const RunContext& ctx, int round, const std::vector<std::string>& prompts,
                                             const Candidates& candidates, const std::vector<Kept>& kept) {
  std::vector<DistillExample> out = kept_examples(prompts, candidates, kept);
  if (!ctx.recipe.improve.distill.accumulate) return out;
  for (int r = 1; r < round; ++r) {
    const RoundKept earlier =
        read_round_kept(ctx.run.round(r), "improve.distill.accumulate trains on every earlier round's kept samples");
    auto more = kept_examples(prompt_texts(round_problems(ctx, r)), earlier.scored, earlier.kept);
    out.insert(out.end(), more.begin(), more.end());
  }
  return out;
}

}  // namespace mg
