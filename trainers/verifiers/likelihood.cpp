#include "trainers/verifiers/likelihood.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "core/tasks/verification.h"
#include "kernels/logprob.h"
#include "trainers/training/batch.h"

namespace mg {

std::vector<double> confidence_scores(Gpt& model, const Tokenizer& tokenizer, const std::vector<std::string>& prompts,
                                      const std::vector<std::string>& answers, VerifyMethod method,
                                      const torch::Device& device, int max_rows) {
  check(prompts.size() == answers.size(), "confidence_scores: prompts and answers differ in length");
  check(method == VerifyMethod::Likelihood || method == VerifyMethod::SelfCertainty,
        "confidence_scores: not a confidence method");
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const int max_seq = model->config().max_seq;
  const double log_vocab = std::log(static_cast<double>(model->config().vocab));
  std::vector<double> scores(prompts.size(), 0.0);
  // The rows that fit max_seq; the others keep 0.
  std::vector<size_t> fit;
  std::vector<Example> examples;
  for (size_t i = 0; i < prompts.size(); ++i) {
    Example e = generation_example({prompts[i], answers[i]});
    if (tokenizer.encode_example(e).first.size() > static_cast<size_t>(max_seq) + 1) continue;
    fit.push_back(i);
    examples.push_back(std::move(e));
  }
  for (size_t first = 0; first < examples.size(); first += static_cast<size_t>(max_rows)) {
    const size_t last = std::min(examples.size(), first + static_cast<size_t>(max_rows));
    const TokenBatch batch = make_batch({examples.begin() + first, examples.begin() + last}, tokenizer, max_seq);
    const torch::Tensor hidden = model->hidden(batch.inputs.to(device));
    const int64_t B = hidden.size(0), T = hidden.size(1), D = hidden.size(2);
    // The answer's positions (weight 1: its tokens and <eoa>), scored together in one pass.
    const torch::Tensor scored = batch.weights.reshape({-1}) > 0;
    const torch::Tensor rows = scored.nonzero().reshape({-1});
    const torch::Tensor h = hidden.reshape({-1, D}).index_select(0, rows.to(device));
    const torch::Tensor targets = batch.targets.reshape({-1}).index_select(0, rows).to(device);
    const bool certainty = method == VerifyMethod::SelfCertainty;
    const auto out = kernels::token_logprob_entropy(h, model->unembedding(), targets, certainty);
    const torch::Tensor per_token =
        (certainty ? 1.0 - out.entropy.to(torch::kFloat64) / log_vocab : out.logprob.to(torch::kFloat64)).cpu();
    // Mean over each sequence's positions: the flat index of a scored position is b * T + t.
    const torch::Tensor seq = torch::div(rows, T, "floor");
    const torch::Tensor sums = torch::zeros({B}, torch::kFloat64).index_add_(0, seq, per_token);
    const torch::Tensor counts = torch::zeros({B}, torch::kFloat64).index_add_(0, seq, torch::ones_like(per_token));
    const torch::Tensor mean = sums / counts.clamp_min(1.0);
    for (int64_t b = 0; b < B; ++b) {
      const double m = mean[b].item<double>();
      scores[fit[first + static_cast<size_t>(b)]] = certainty ? std::clamp(m, 0.0, 1.0) : std::exp(m);
    }
  }
  if (was_training) model->train();
  return scores;
}

}  // namespace mg
