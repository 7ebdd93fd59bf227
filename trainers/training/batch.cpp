#include "trainers/training/batch.h"

#include "core/errors.h"

namespace mg {

TokenBatch make_batch(const std::vector<Example>& examples, const Tokenizer& tokenizer, int max_seq,
                      const std::vector<float>& example_weights) {
  check(!examples.empty(), "make_batch: no examples");
  std::vector<std::vector<int>> ids;
  std::vector<std::vector<float>> ws;
  size_t longest = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    auto [t, w] = tokenizer.encode_example(examples[i]);
    if (t.size() > static_cast<size_t>(max_seq) + 1)
      fail_input("model.max_seq: an example needs " + std::to_string(t.size() - 1) +
                 " positions but max_seq is " + std::to_string(max_seq));
    float scale = example_weights.empty() ? 1.0f : example_weights[i];
    for (auto& x : w) x *= scale;
    longest = std::max(longest, t.size());
    ids.push_back(std::move(t));
    ws.push_back(std::move(w));
  }
  const int64_t B = static_cast<int64_t>(examples.size()), T = static_cast<int64_t>(longest) - 1;
  TokenBatch b;
  b.inputs = torch::full({B, T}, tokenizer.pad_id(), torch::kInt64);
  b.targets = torch::full({B, T}, tokenizer.pad_id(), torch::kInt64);
  b.weights = torch::zeros({B, T}, torch::kFloat32);
  auto in = b.inputs.accessor<int64_t, 2>();
  auto tg = b.targets.accessor<int64_t, 2>();
  auto wt = b.weights.accessor<float, 2>();
  for (int64_t i = 0; i < B; ++i) {
    const auto& t = ids[i];
    const auto& w = ws[i];
    for (size_t j = 0; j + 1 < t.size(); ++j) {
      in[i][j] = t[j];
      tg[i][j] = t[j + 1];
      wt[i][j] = w[j + 1];  // the weight belongs to the token being predicted
    }
    b.tokens += static_cast<int64_t>(t.size()) - 1;
  }
  return b;
}

}  // namespace mg
