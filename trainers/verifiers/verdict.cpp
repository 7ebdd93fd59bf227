#include "trainers/verifiers/verdict.h"

#include "core/errors.h"
#include "core/tasks/verification.h"

namespace mg {
namespace {

// Score of one row's logits restricted to the verdict tokens.
double verdict_from_logits(const torch::Tensor& row, const std::vector<int64_t>& verdict_ids, bool expected_score) {
  auto ids = torch::tensor(verdict_ids, torch::kInt64);
  auto p = torch::softmax(row.index_select(0, ids).to(torch::kFloat64), 0);
  if (!expected_score) return p[0].item<double>();  // ids = {yes, no}
  auto k = torch::arange(static_cast<int64_t>(verdict_ids.size()), torch::kFloat64);
  return (p * k).sum().item<double>() / double(verdict_ids.size() - 1);
}

}  // namespace

std::vector<double> verdict_scores(Gpt& model, const Tokenizer& tokenizer, const VerdictRequest& req,
                                   const torch::Device& device) {
  check(req.prompts.size() == req.candidates.size(), "verdict_scores: prompts and candidates differ in length");
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const bool expected_score = req.method == VerifyMethod::Score;
  std::vector<int64_t> verdict_ids;
  if (expected_score) {
    for (int k = 0; k <= 9; ++k) verdict_ids.push_back(tokenizer.score_id(k));
  } else {
    verdict_ids = {tokenizer.yes_id(), tokenizer.no_id()};
  }
  auto is_verdict = torch::zeros({tokenizer.vocab_size()}, torch::kBool);
  for (auto id : verdict_ids) is_verdict[id] = true;
  const int steps = req.format == "cot" ? req.max_derivation_tokens + 1 : 1;
  const int max_seq = model->config().max_seq;

  const int64_t N = static_cast<int64_t>(req.prompts.size());
  std::vector<double> scores(N, 0.5);
  for (int64_t first = 0; first < N; first += req.max_rows) {
    const int64_t B = std::min<int64_t>(req.max_rows, N - first);
    std::vector<std::vector<int>> prefixes(B);
    size_t longest = 0;
    for (int64_t r = 0; r < B; ++r) {
      prefixes[r] = tokenizer.encode(verification_prefix(req.prompts[first + r], req.candidates[first + r]));
      longest = std::max(longest, prefixes[r].size());
    }
    // A candidate too long to verify within max_seq keeps the neutral score 0.5.
    int room = std::min<int>(steps, max_seq - static_cast<int>(longest));
    if (room <= 0) {
      // Some prefix leaves no room: verify row by row those that fit (rare: runaway samples).
      for (int64_t r = 0; r < B; ++r) {
        if (static_cast<int>(prefixes[r].size()) >= max_seq) continue;
        VerdictRequest one = req;
        one.prompts = {req.prompts[first + r]};
        one.candidates = {req.candidates[first + r]};
        one.max_rows = 1;
        scores[first + r] = verdict_scores(model, tokenizer, one, device)[0];
      }
      continue;
    }
    Decoder decoder(model, B, static_cast<int64_t>(longest) + room, device);
    auto logits = decoder.prefill(prefixes).to(torch::kCPU).to(torch::kFloat32);
    std::vector<char> done(B, 0);
    int64_t remaining = B;
    for (int t = 0; t < room && remaining > 0; ++t) {
      auto next = logits.argmax(1);
      auto chose_verdict = is_verdict.index_select(0, next).contiguous();
      const bool* chose = chose_verdict.data_ptr<bool>();
      for (int64_t r = 0; r < B; ++r) {
        if (done[r]) continue;
        if (req.format != "cot" || chose[r] || t + 1 == room) {
          scores[first + r] = verdict_from_logits(logits[r], verdict_ids, expected_score);
          done[r] = 1;
          --remaining;
        }
      }
      if (remaining > 0) logits = decoder.step(next.to(device)).to(torch::kCPU).to(torch::kFloat32);
    }
  }
  if (was_training) model->train();
  return scores;
}

}  // namespace mg
