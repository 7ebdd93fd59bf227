#include "trainers/verifiers/tournament.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "core/errors.h"
#include "core/tasks/verification.h"
#include "models/decoder.h"

namespace mg {
std::vector<PairOutcome> pair_outcomes(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                       const std::vector<std::string>& firsts, const std::vector<std::string>& seconds,
                                       const torch::Device& device, int max_rows) {
  check(prompts.size() == firsts.size() && prompts.size() == seconds.size(),
        "pair_outcomes: prompts and candidates differ in length");
  std::vector<int64_t> verdict_ids;
  for (PairVerdict v : {PairVerdict::First, PairVerdict::Second, PairVerdict::Both, PairVerdict::Neither})
    verdict_ids.push_back(tokenizer.pair_id(static_cast<int>(v)));
  const auto ids = torch::tensor(verdict_ids, torch::kInt64);
  const int64_t max_seq = model->config().max_seq;
  std::vector<PairOutcome> out(prompts.size());
  // Rows that fit (a prefix of max_seq tokens leaves no room for the verdict), in order.
  std::vector<size_t> rows;
  std::vector<std::vector<int>> prefixes;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto tokens = tokenizer.encode(pair_prefix(prompts[i], firsts[i], seconds[i]));
    if (static_cast<int64_t>(tokens.size()) >= max_seq) continue;
    rows.push_back(i);
    prefixes.push_back(std::move(tokens));
  }
  for (size_t first = 0; first < rows.size(); first += static_cast<size_t>(max_rows)) {
    const size_t end = std::min(rows.size(), first + static_cast<size_t>(max_rows));
    std::vector<std::vector<int>> batch(prefixes.begin() + static_cast<std::ptrdiff_t>(first),
                                        prefixes.begin() + static_cast<std::ptrdiff_t>(end));
    size_t longest = 0;
    for (const auto& p : batch) longest = std::max(longest, p.size());
    Decoder decoder(model, static_cast<int64_t>(batch.size()), static_cast<int64_t>(longest) + 1, device);
    const auto logits = decoder.prefill(batch).to(torch::kCPU).to(torch::kFloat64);
    const auto p = torch::softmax(logits.index_select(1, ids), 1).contiguous();
    const double* v = p.data_ptr<double>();
    for (size_t r = 0; r < batch.size(); ++r)
      out[rows[first + r]] = {v[4 * r], v[4 * r + 1], v[4 * r + 2], v[4 * r + 3]};
  }
  return out;
}

std::vector<double> round_robin_scores(int k, const std::function<PairOutcome(int, int)>& outcome) {
  check(k >= 1, "round_robin_scores: a prompt with no answer");
  if (k == 1) {
    const PairOutcome o = outcome(0, 0);
    const double tie = o.both + o.neither;
    return {tie > 0 ? o.both / tie : 0.5};
  }
  std::vector<double> wins(static_cast<size_t>(k), 0.0);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      if (i == j) continue;
      const PairOutcome o = outcome(i, j);
      wins[static_cast<size_t>(i)] += win_of_first(o);
      wins[static_cast<size_t>(j)] += win_of_second(o);
    }
  for (double& w : wins) w /= 2.0 * (k - 1);
  return wins;
}

std::vector<double> tournament_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                      const std::vector<ScoredSample>& samples, const torch::Device& device) {
  // Each prompt's distinct answers, in order of first appearance.
  std::map<int, std::vector<std::string>> answers;
  std::map<std::pair<int, std::string>, int> index;
  for (const auto& s : samples)
    if (index.emplace(std::make_pair(s.prompt, s.answer), static_cast<int>(answers[s.prompt].size())).second)
      answers[s.prompt].push_back(s.answer);
  // Every match of every prompt in one list, so the model runs in full batches.
  std::vector<std::string> match_prompts, firsts, seconds;
  std::map<std::tuple<int, int, int>, size_t> match;  // (prompt, i, j) -> row
  for (const auto& [prompt, list] : answers) {
    const int k = static_cast<int>(list.size());
    for (int i = 0; i < k; ++i)
      for (int j = 0; j < k; ++j) {
        if ((i != j) != (k > 1)) continue;  // i != j; a lone answer plays itself
        match[{prompt, i, j}] = firsts.size();
        match_prompts.push_back(prompts.at(static_cast<size_t>(prompt)));
        firsts.push_back(list[static_cast<size_t>(i)]);
        seconds.push_back(list[static_cast<size_t>(j)]);
      }
  }
  const std::vector<PairOutcome> outcomes = pair_outcomes(model, tokenizer, match_prompts, firsts, seconds, device);
  std::map<std::pair<int, std::string>, double> score;
  for (const auto& [prompt, list] : answers) {
    const auto wins = round_robin_scores(static_cast<int>(list.size()), [&, p = prompt](int i, int j) {
      return outcomes[match.at({p, i, j})];
    });
    for (size_t a = 0; a < list.size(); ++a) score[{prompt, list[a]}] = wins[a];
  }
  std::vector<double> out;
  out.reserve(samples.size());
  for (const auto& s : samples) out.push_back(score.at({s.prompt, s.answer}));
  return out;
}

}  // namespace mg
