#include "trainers/stages/evaluate_held_out.h"

#include <cstring>

#include "core/stats/auroc.h"
#include "core/stats/pass_at_k.h"
#include "trainers/sampling/answers.h"
#include "trainers/curriculum/curriculum.h"
#include "trainers/run/seeds.h"
#include "trainers/verifiers/tournament.h"
#include "trainers/verifiers/verdict.h"

namespace mg {

std::vector<Problem> eval_problems(const Task& task, uint64_t seed, Range difficulty, int n) {
  std::vector<Problem> out;
  uint64_t s = derive_seed(seed, SeedPurpose::EvalPrompts, {static_cast<uint64_t>(difficulty.lo),
                                                            static_cast<uint64_t>(difficulty.hi)});
  for (int i = 0; i < n; ++i) out.push_back(task.generate(s, static_cast<uint64_t>(i), difficulty));
  return out;
}

std::vector<double> gather_doubles(Communicator& comm, const std::vector<double>& mine) {
  std::string bytes(mine.size() * sizeof(double), '\0');
  if (!mine.empty()) std::memcpy(bytes.data(), mine.data(), bytes.size());
  std::vector<double> all;
  for (const auto& part : comm.all_gather_bytes(bytes)) {
    size_t n = part.size() / sizeof(double);
    size_t at = all.size();
    all.resize(at + n);
    if (n) std::memcpy(all.data() + at, part.data(), n * sizeof(double));
  }
  return all;
}

namespace {

// This rank's share of a list: items i with i % world == rank.
template <class T>
std::vector<T> shard(const std::vector<T>& items, const Communicator& comm) {
  std::vector<T> out;
  for (size_t i = comm.rank(); i < items.size(); i += comm.world_size()) out.push_back(items[i]);
  return out;
}

// The tournament's verdict on held-out candidates: each candidate against one of the other kind
// (a correct one against a near miss, a near miss against the answer), in both orders; its
// score is its mean win (tournament.h).
std::vector<double> head_to_head_scores(Gpt& model, const Tokenizer& tokenizer, const Task& task,
                                        const std::vector<Problem>& problems, const std::vector<size_t>& which,
                                        const std::vector<std::string>& candidates, const std::vector<bool>& truth,
                                        uint64_t seed, const torch::Device& device) {
  std::vector<std::string> prompts, firsts, seconds;
  for (size_t r = 0; r < which.size(); ++r) {
    const Problem& p = problems[which[r]];
    const std::string opponent =
        truth[r] ? task.wrong_answer(p, derive_seed(seed, SeedPurpose::EvalVerify, {which[r], 1})) : p.answer;
    for (bool candidate_first : {true, false}) {
      prompts.push_back(p.prompt);
      firsts.push_back(candidate_first ? candidates[r] : opponent);
      seconds.push_back(candidate_first ? opponent : candidates[r]);
    }
  }
  const auto outcomes = pair_outcomes(model, tokenizer, prompts, firsts, seconds, device);
  std::vector<double> scores;
  for (size_t r = 0; r < outcomes.size(); r += 2)
    scores.push_back(0.5 * (win_of_first(outcomes[r]) + win_of_second(outcomes[r + 1])));
  return scores;
}

}  // namespace

double greedy_accuracy(Gpt& model, const Tokenizer& tokenizer, const Task& task, const std::vector<Problem>& problems,
                       Communicator& comm, const torch::Device& device) {
  auto mine = shard(problems, comm);
  double correct = 0;
  if (!mine.empty()) {
    GenerateRequest req;
    for (const auto& p : mine) req.prompts.push_back(p.prompt);
    req.samples = 1;
    req.sampling.temperature = 0.0;
    int longest = 0;
    for (const auto& p : mine) longest = std::max<int>(longest, static_cast<int>(p.answer.size()));
    req.max_new_tokens = longest + 2;
    auto answers = generate_answers(model, tokenizer, req, device);
    for (size_t i = 0; i < mine.size(); ++i) correct += task.grade(mine[i].prompt, answers[i][0]) ? 1 : 0;
  }
  auto counts = torch::tensor({correct, static_cast<double>(mine.size())}, torch::kFloat64);
  comm.all_reduce_sum(counts);
  return counts[1].item<double>() > 0 ? counts[0].item<double>() / counts[1].item<double>() : 0.0;
}

std::vector<double> pass_at(Gpt& model, const Tokenizer& tokenizer, const Task& task, const std::vector<Problem>& problems,
                            const std::vector<int>& ks, const SamplingConfig& sampling, uint64_t seed,
                            Communicator& comm, const torch::Device& device) {
  check(!ks.empty(), "pass_at: no k");
  GenerateRequest req;
  std::vector<size_t> mine;
  for (size_t i = comm.rank(); i < problems.size(); i += comm.world_size()) {
    mine.push_back(i);
    req.prompts.push_back(problems[i].prompt);
    req.prompt_ids.push_back(i);
  }
  req.samples = ks.back();
  req.sampling = sampling;
  req.seed = seed;
  int longest = 0;
  for (const auto& p : problems) longest = std::max(longest, static_cast<int>(p.answer.size()));
  req.max_new_tokens = longest + 2;
  // Sums over this rank's prompts, then over the ranks: one per k, and the prompt count.
  std::vector<double> sums(ks.size() + 1, 0.0);
  if (!mine.empty()) {
    const auto answers = generate_answers(model, tokenizer, req, device);
    for (size_t r = 0; r < mine.size(); ++r) {
      int correct = 0;
      for (const auto& a : answers[r]) correct += task.grade(problems[mine[r]].prompt, a) ? 1 : 0;
      for (size_t j = 0; j < ks.size(); ++j) sums[j] += pass_at_k(req.samples, correct, ks[j]);
    }
    sums.back() = static_cast<double>(mine.size());
  }
  auto total = torch::tensor(sums, torch::kFloat64);
  comm.all_reduce_sum(total);
  std::vector<double> out(ks.size());
  const double n = total[static_cast<int64_t>(ks.size())].item<double>();
  for (size_t j = 0; j < ks.size(); ++j) out[j] = n > 0 ? total[static_cast<int64_t>(j)].item<double>() / n : 0.0;
  return out;
}

nlohmann::json pass_at_record(RunContext& ctx, Gpt& model, int round) {
  const auto& ks = ctx.recipe.improve.pass_at;
  if (ks.empty()) return nullptr;
  const Range d = round_difficulty(ctx, round);
  const auto problems = eval_problems(*ctx.task, ctx.recipe.run.seed, d, ctx.recipe.improve.pass_at_prompts);
  const auto values = pass_at(model, *ctx.tokenizer, *ctx.task, problems, ks, ctx.recipe.improve.sampling,
                              derive_seed(ctx.recipe.run.seed, SeedPurpose::PassAt, {static_cast<uint64_t>(round)}),
                              *ctx.comm, ctx.device);
  nlohmann::json out = nlohmann::json::object();
  for (size_t j = 0; j < ks.size(); ++j) out[std::to_string(ks[j])] = values[j];
  return out;
}

VerdictEval verdict_eval(Gpt& model, const Tokenizer& tokenizer, const Task& task, const std::vector<Problem>& problems,
                         const VerifyConfig& verify, uint64_t seed, Communicator& comm, const torch::Device& device) {
  // Candidate i is correct for even i, a near miss for odd i: balanced classes.
  std::vector<double> scores, labels;
  VerdictRequest req;
  req.method = verify_method(verify.method) == VerifyMethod::Score ? VerifyMethod::Score : VerifyMethod::Mc;
  req.format = verify.format;
  std::vector<bool> truth;
  std::vector<size_t> which;  // this rank's problems
  for (size_t i = comm.rank(); i < problems.size(); i += comm.world_size()) {
    const auto& p = problems[i];
    which.push_back(i);
    bool good = i % 2 == 0;
    req.prompts.push_back(p.prompt);
    req.candidates.push_back(good ? p.answer : task.wrong_answer(p, derive_seed(seed, SeedPurpose::EvalVerify, {i})));
    truth.push_back(good);
    req.max_derivation_tokens = std::max<int>(req.max_derivation_tokens, static_cast<int>(p.answer.size()) + 2);
  }
  if (!req.prompts.empty()) {
    scores = verify_method(verify.method) == VerifyMethod::Tournament
                 ? head_to_head_scores(model, tokenizer, task, problems, which, req.candidates, truth, seed, device)
                 : verdict_scores(model, tokenizer, req, device);
    for (bool t : truth) labels.push_back(t ? 1.0 : 0.0);
  }
  auto all_scores = gather_doubles(comm, scores), all_labels = gather_doubles(comm, labels);
  VerdictEval out;
  std::vector<bool> lab;
  double agree = 0;
  for (size_t i = 0; i < all_scores.size(); ++i) {
    lab.push_back(all_labels[i] > 0.5);
    agree += ((all_scores[i] > 0.5) == lab.back()) ? 1 : 0;
  }
  out.accuracy = all_scores.empty() ? 0 : agree / all_scores.size();
  out.auroc = auroc(all_scores, lab);
  return out;
}

}  // namespace mg
