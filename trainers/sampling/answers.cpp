#include "trainers/sampling/answers.h"

#include "core/errors.h"
#include "kernels/sampling.h"
#include "trainers/run/seeds.h"

namespace mg {

std::vector<std::vector<std::string>> generate_answers(Gpt& model, const Tokenizer& tokenizer,
                                                       const GenerateRequest& req, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const int64_t P = static_cast<int64_t>(req.prompts.size()), S = req.samples;
  std::vector<std::vector<std::string>> answers(P, std::vector<std::string>(S));
  std::vector<std::vector<int>> encoded(P);
  for (int64_t p = 0; p < P; ++p) encoded[p] = tokenizer.encode(req.prompts[p]);
  const int64_t rows_total = P * S;
  const int max_seq = model->config().max_seq;
  for (int64_t first = 0; first < rows_total; first += req.max_rows) {
    const int64_t B = std::min<int64_t>(req.max_rows, rows_total - first);
    std::vector<std::vector<int>> prompts(B);
    std::vector<int64_t> seeds(B);
    size_t longest = 0;
    for (int64_t r = 0; r < B; ++r) {
      int64_t p = (first + r) / S, s = (first + r) % S;
      prompts[r] = encoded[p];
      longest = std::max(longest, prompts[r].size());
      uint64_t id = req.prompt_ids.empty() ? static_cast<uint64_t>(p) : req.prompt_ids[p];
      seeds[r] = static_cast<int64_t>(derive_seed(req.seed, SeedPurpose::Sampling, {id, static_cast<uint64_t>(s)}) >> 1);
    }
    const int max_new = std::min<int>(req.max_new_tokens, max_seq - static_cast<int>(longest));
    if (max_new <= 0) fail_input("model.max_seq " + std::to_string(max_seq) + " leaves no room to answer a prompt of " +
                                 std::to_string(longest) + " tokens");
    Decoder decoder(model, B, static_cast<int64_t>(longest) + max_new, device);
    torch::Tensor logits = decoder.prefill(prompts);
    auto seed_t = torch::tensor(seeds, torch::kInt64).to(device);
    std::vector<std::vector<int>> out(B);
    std::vector<char> done(B, 0);
    int64_t remaining = B;
    auto params = kernels::uniform_params(B, req.sampling.temperature, req.sampling.top_k, req.sampling.top_p,
                                          req.sampling.min_p, seed_t, torch::zeros({B}, seed_t.options()));
    for (int t = 0; t < max_new && remaining > 0; ++t) {
      params.offset.fill_(t);  // the step: each row's Philox stream advances with it
      auto tokens = kernels::sample(logits, params).tokens;
      auto host = tokens.to(torch::kCPU);
      auto acc = host.accessor<int64_t, 1>();
      for (int64_t r = 0; r < B; ++r) {
        if (done[r]) continue;
        int id = static_cast<int>(acc[r]);
        if (id == tokenizer.end_id()) {
          done[r] = 1;
          --remaining;
        } else {
          out[r].push_back(id);
        }
      }
      if (remaining > 0 && t + 1 < max_new) logits = decoder.step(tokens);
    }
    for (int64_t r = 0; r < B; ++r) answers[(first + r) / S][(first + r) % S] = tokenizer.decode(out[r]);
  }
  if (was_training) model->train();
  return answers;
}

}  // namespace mg
