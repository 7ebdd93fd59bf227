// KV-cached batched decoding equals a full forward pass of each sequence alone.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/errors.h"
#include "models/decoder.h"
#include "models/gpt.h"
#include "models/kv_cache.h"

namespace {

mg::GptConfig small(const std::string& pos) {
  mg::GptConfig c;
  c.vocab = 32;
  c.n_layer = 2;
  c.n_head = 4;
  c.d_model = 64;
  c.max_seq = 32;
  c.pos = pos;
  return c;
}

// Last-position logits of `seq` run alone, without a cache.
torch::Tensor alone(mg::Gpt& m, const std::vector<int>& seq) {
  torch::NoGradGuard no_grad;
  auto t = torch::tensor(std::vector<int64_t>(seq.begin(), seq.end()), torch::kInt64).unsqueeze(0);
  return m->forward(t).select(1, t.size(1) - 1).squeeze(0);
}

// Prefills `prompts`, then appends `steps` tokens per row (a fixed pseudo-random stream), and
// compares every step's logits with the full forward pass of that row's sequence alone.
void expect_cached_equals_full(mg::Gpt& m, std::vector<std::vector<int>> prompts, int steps) {
  const int64_t B = static_cast<int64_t>(prompts.size());
  size_t longest = 0;
  for (auto& p : prompts) longest = std::max(longest, p.size());
  mg::Decoder dec(m, B, static_cast<int64_t>(longest) + steps, torch::kCPU);
  auto logits = dec.prefill(prompts);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{B, 32}));
  ASSERT_EQ(logits.scalar_type(), torch::kFloat32);
  EXPECT_EQ(dec.length(), static_cast<int64_t>(longest));
  for (int s = 0; s <= steps; ++s) {
    for (int64_t i = 0; i < B; ++i) {
      auto ref = alone(m, prompts[i]);
      EXPECT_TRUE(torch::allclose(logits[i], ref, 1e-4, 1e-4))
          << "row " << i << " step " << s << " max diff " << (logits[i] - ref).abs().max().item<float>();
    }
    if (s == steps) break;
    auto next = torch::empty({B}, torch::kInt64);
    for (int64_t i = 0; i < B; ++i) {
      int t = static_cast<int>((7 * s + 3 * i + 1) % 32);
      next[i] = t;
      prompts[i].push_back(t);
    }
    logits = dec.step(next);
    EXPECT_EQ(dec.length(), static_cast<int64_t>(longest) + s + 1);
  }
}

TEST(Decoder, CachedStepsEqualFullForwardForDifferentLengths) {
  for (const std::string pos : {"learned", "rope", "none"}) {
    SCOPED_TRACE(pos);
    torch::manual_seed(11);
    mg::Gpt m(small(pos));
    m->eval();
    expect_cached_equals_full(m, {{1, 2, 3}, {4, 5, 6, 7, 8, 9, 10}, {11, 12, 13, 14, 15}, {16}}, 6);
  }
}

TEST(Decoder, EqualLengthPromptsTakeTheUnmaskedPath) {
  for (const std::string pos : {"learned", "rope", "none"}) {
    SCOPED_TRACE(pos);
    torch::manual_seed(12);
    mg::Gpt m(small(pos));
    m->eval();
    expect_cached_equals_full(m, {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 9, 9, 9}}, 4);
  }
}

TEST(Decoder, DecodesInEvalModeAndRestoresTraining) {
  auto c = small("rope");
  c.dropout = 0.3;
  mg::Gpt m(c);
  m->train();
  mg::Decoder dec(m, 2, 8, torch::kCPU);
  auto a = dec.prefill({{1, 2, 3}, {4, 5}});
  EXPECT_TRUE(m->is_training());
  auto b = dec.prefill({{1, 2, 3}, {4, 5}});
  EXPECT_TRUE(torch::equal(a, b));  // no dropout while decoding
  m->eval();
  EXPECT_TRUE(torch::allclose(a[0], alone(m, {1, 2, 3}), 1e-4, 1e-4));
  EXPECT_FALSE(a.requires_grad());
}

TEST(Decoder, Bf16ModelDecodes) {
  torch::manual_seed(13);
  mg::Gpt m(small("rope"));
  m->eval();
  auto ref = alone(m, {3, 4, 5, 6});
  m->to(torch::kBFloat16);
  mg::Decoder dec(m, 2, 8, torch::kCPU);
  auto logits = dec.prefill({{3, 4}, {1, 2, 3}});
  logits = dec.step(torch::tensor({5, 6}, torch::kInt64));
  logits = dec.step(torch::tensor({6, 7}, torch::kInt64));
  EXPECT_EQ(logits.scalar_type(), torch::kFloat32);
  EXPECT_LT((logits[0] - ref).abs().max().item<float>(), 0.05f * ref.abs().max().item<float>());
}

TEST(Decoder, MisuseIsReported) {
  mg::Gpt m(small("learned"));
  mg::Decoder dec(m, 2, 5, torch::kCPU);
  EXPECT_THROW(dec.step(torch::zeros({2}, torch::kInt64)), mg::Error);        // before prefill
  EXPECT_THROW(dec.prefill({{1, 2}}), mg::Error);                              // wrong batch
  EXPECT_THROW(dec.prefill({{1, 2}, {}}), mg::Error);                          // empty prompt
  EXPECT_THROW(dec.prefill({{1, 2, 3, 4, 5, 6}, {1}}), mg::Error);             // longer than max_len
  EXPECT_THROW(dec.prefill({{1, 99}, {1}}), mg::Error);                        // outside the vocabulary
  dec.prefill({{1, 2, 3, 4}, {1}});
  EXPECT_THROW(dec.step(torch::zeros({3}, torch::kInt64)), mg::Error);        // wrong batch
  dec.step(torch::zeros({2}, torch::kInt64));
  EXPECT_EQ(dec.length(), 5);
  EXPECT_THROW(dec.step(torch::zeros({2}, torch::kInt64)), mg::Error);        // cache full
}

TEST(KvCache, AppendsInPlaceAndReturnsThePrefix) {
  mg::KvCache cache(1, 2, 3, 6, 4, torch::kCPU);
  auto k1 = torch::randn({2, 3, 4, 4}), v1 = torch::randn({2, 3, 4, 4});
  auto [k, v] = cache.append(0, k1, v1);
  cache.advance(4);
  EXPECT_TRUE(torch::equal(k, k1));
  EXPECT_TRUE(torch::equal(v, v1));
  auto k2 = torch::randn({2, 3, 1, 4}), v2 = torch::randn({2, 3, 1, 4});
  std::tie(k, v) = cache.append(0, k2, v2);
  cache.advance(1);
  EXPECT_EQ(cache.length(), 5);
  EXPECT_TRUE(torch::equal(k, torch::cat({k1, k2}, 2)));
  EXPECT_TRUE(torch::equal(v, torch::cat({v1, v2}, 2)));
  EXPECT_THROW(cache.append(0, torch::randn({2, 3, 2, 4}), torch::randn({2, 3, 2, 4})), mg::Error);
  cache.reset();
  EXPECT_EQ(cache.length(), 0);
}

TEST(Decoder, CachedDecodingOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU: cached decoding on CUDA not checked";
  torch::manual_seed(14);
  mg::Gpt m(small("rope"));
  m->eval();
  auto ref = alone(m, {1, 2, 3, 4, 5});
  m->to(torch::kCUDA);
  mg::Decoder dec(m, 2, 8, torch::kCUDA);
  dec.prefill({{1, 2, 3}, {9}});
  dec.step(torch::tensor({4, 1}, torch::kInt64));
  auto logits = dec.step(torch::tensor({5, 2}, torch::kInt64)).cpu();
  EXPECT_TRUE(torch::allclose(logits[0], ref, 1e-3, 1e-3));
}

}  // namespace
