// The GPT: shapes, parameter count, causality, positions, GPT-2 init, bf16, FLOPs, and that it learns.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include <cmath>

#include "core/errors.h"
#include "models/flops.h"
#include "models/gpt.h"

namespace {

mg::GptConfig tiny(const std::string& pos, int n_layer = 4, int d_model = 128) {
  mg::GptConfig c;
  c.vocab = 32;
  c.n_layer = n_layer;
  c.n_head = 4;
  c.d_model = d_model;
  c.max_seq = 64;
  c.pos = pos;
  return c;
}

const std::vector<std::string> kPos = {"learned", "rope", "none"};

TEST(Gpt, ParameterCountOfTheTinyShape) {
  // Per block: qkv 3d^2+3d, proj d^2+d, fc 4d^2+4d, proj 4d^2+d, two LayerNorms 4d.
  const int64_t d = 128, L = 4, V = 32;
  const int64_t expected = V * d + L * (12 * d * d + 13 * d) + 2 * d;  // tied unembedding: wte once
  mg::Gpt rope(tiny("rope"));
  EXPECT_EQ(rope->num_parameters(), expected);
  EXPECT_NEAR(static_cast<double>(expected), 0.8e6, 0.01e6);
  mg::Gpt learned(tiny("learned"));
  EXPECT_EQ(learned->num_parameters(), expected + 64 * d);
  EXPECT_TRUE(learned->unembedding().is_same(learned->named_parameters()["wte.weight"]));
}

TEST(Gpt, ShapesAndTiedLogits) {
  mg::Gpt m(tiny("rope", 2, 64));
  auto tokens = torch::randint(32, {3, 10}, torch::kInt64);
  auto h = m->hidden(tokens);
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{3, 10, 64}));
  auto logits = m->logits(h);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{3, 10, 32}));
  EXPECT_TRUE(torch::allclose(logits, torch::matmul(h, m->unembedding().t()), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(m->forward(tokens), logits));
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(Gpt, CausalLaterTokensDoNotChangeEarlierOutputs) {
  for (const auto& pos : kPos) {
    SCOPED_TRACE(pos);
    torch::manual_seed(1);
    mg::Gpt m(tiny(pos, 2, 64));
    auto a = torch::randint(32, {2, 12}, torch::kInt64);
    auto b = a.clone();
    b.index_put_({torch::indexing::Slice(), 7}, (a.index({torch::indexing::Slice(), 7}) + 1) % 32);
    b.index_put_({torch::indexing::Slice(), 11}, (a.index({torch::indexing::Slice(), 11}) + 5) % 32);
    auto ha = m->hidden(a), hb = m->hidden(b);
    auto early = torch::indexing::Slice(0, 7), late = torch::indexing::Slice(7, 12);
    EXPECT_TRUE(torch::allclose(ha.index({torch::indexing::Slice(), early}),
                                hb.index({torch::indexing::Slice(), early}), 1e-5, 1e-6));
    // ...and the changed positions do see the change (the test would pass for a constant model otherwise).
    EXPECT_GT((ha.index({torch::indexing::Slice(), late}) - hb.index({torch::indexing::Slice(), late})).abs().max().item<float>(),
              1e-3);
  }
}

TEST(Gpt, RopeDependsOnRelativePositionsOnly) {
  torch::NoGradGuard no_grad;
  auto tokens = torch::randint(32, {2, 9}, torch::kInt64);
  auto shifted = (torch::arange(9, torch::kInt64) + 5).unsqueeze(0).expand({2, 9}).contiguous();
  mg::Gpt rope(tiny("rope", 2, 64));
  EXPECT_TRUE(torch::allclose(rope->hidden(tokens), rope->hidden_at(tokens, shifted, {}, nullptr), 1e-4, 1e-5));
  mg::Gpt learned(tiny("learned", 2, 64));
  EXPECT_FALSE(torch::allclose(learned->hidden(tokens), learned->hidden_at(tokens, shifted, {}, nullptr), 1e-4, 1e-5));
  // Without rotation, the positions handed in make no difference at all.
  mg::Gpt none(tiny("none", 2, 64));
  EXPECT_TRUE(torch::allclose(none->hidden(tokens), none->hidden_at(tokens, shifted, {}, nullptr)));
}

TEST(Gpt, Gpt2Initialisation) {
  torch::manual_seed(3);
  mg::Gpt m(tiny("learned"));
  auto p = m->named_parameters();
  EXPECT_NEAR(p["wte.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(p["wpe.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(p["blocks.0.attn.qkv.weight"].std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(p["blocks.1.fc.weight"].std().item<double>(), 0.02, 0.001);
  const double resid = 0.02 / std::sqrt(8.0);
  EXPECT_NEAR(p["blocks.2.attn.proj.weight"].std().item<double>(), resid, 0.001);
  EXPECT_NEAR(p["blocks.3.proj.weight"].std().item<double>(), resid, 0.001);
  EXPECT_EQ(p["blocks.0.fc.bias"].abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(p["ln_f.weight"], torch::ones({128})));
}

TEST(Gpt, EveryParameterGetsAGradient) {
  for (const auto& pos : kPos) {
    SCOPED_TRACE(pos);
    mg::Gpt m(tiny(pos, 2, 64));
    auto tokens = torch::randint(32, {2, 8}, torch::kInt64);
    m->forward(tokens).pow(2).mean().backward();
    for (const auto& item : m->named_parameters()) {
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
      EXPECT_GT(item.value().grad().abs().sum().item<float>(), 0.0f) << item.key();
    }
  }
}

TEST(Gpt, DropoutOnlyInTraining) {
  auto c = tiny("rope", 2, 64);
  c.dropout = 0.2;
  mg::Gpt m(c);
  auto tokens = torch::randint(32, {2, 8}, torch::kInt64);
  m->train();
  EXPECT_FALSE(torch::allclose(m->hidden(tokens), m->hidden(tokens)));
  m->eval();
  EXPECT_TRUE(torch::equal(m->hidden(tokens), m->hidden(tokens)));
}

TEST(Gpt, RunsInBf16) {
  torch::NoGradGuard no_grad;
  mg::Gpt m(tiny("rope", 2, 64));
  auto tokens = torch::randint(32, {2, 12}, torch::kInt64);
  auto ref = m->forward(tokens);
  {
    // What a caller does on the GPU, here on the CPU: bf16 autocast around fp32 parameters.
    at::autocast::set_autocast_enabled(at::kCPU, true);
    at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
    auto out = m->forward(tokens);
    at::autocast::set_autocast_enabled(at::kCPU, false);
    at::autocast::clear_cache();
    EXPECT_EQ(out.scalar_type(), torch::kBFloat16);
    EXPECT_LT((out.to(torch::kFloat32) - ref).abs().max().item<float>(), 0.05f * ref.abs().max().item<float>());
  }
  m->to(torch::kBFloat16);  // every parameter in bf16
  auto out = m->forward(tokens);
  EXPECT_EQ(out.scalar_type(), torch::kBFloat16);
  EXPECT_LT((out.to(torch::kFloat32) - ref).abs().max().item<float>(), 0.05f * ref.abs().max().item<float>());
}

TEST(Gpt, OverfitsAFewSequences) {
  torch::manual_seed(7);
  mg::Gpt m(tiny("rope", 2, 64));
  auto data = torch::randint(32, {4, 17}, torch::kInt64);
  auto x = data.narrow(1, 0, 16), y = data.narrow(1, 1, 16);
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.0));
  auto loss_of = [&] { return torch::cross_entropy_loss(m->forward(x).reshape({-1, 32}), y.reshape({-1})); };
  const float first = loss_of().item<float>();
  float last = first;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    auto loss = loss_of();
    loss.backward();
    opt.step();
    last = loss.item<float>();
  }
  EXPECT_NEAR(first, std::log(32.0f), 0.3f);  // starts near uniform
  EXPECT_LT(last, 0.25f) << "from " << first;
}

TEST(Gpt, BadConfigsAndInputsAreUserErrors) {
  mg::ModelConfig mc;
  mc.pos = "alibi";
  EXPECT_THROW(mg::GptConfig::from(mc, 32), mg::Error);
  mc.pos = "rope";
  mc.d_model = 130;
  EXPECT_THROW(mg::GptConfig::from(mc, 32), mg::Error);
  mc.d_model = 128;
  EXPECT_THROW(mg::GptConfig::from(mc, 0), mg::Error);
  auto c = mg::GptConfig::from(mc, 32);
  EXPECT_EQ(c.head_dim(), 32);
  EXPECT_EQ(c.pos, "rope");
  auto learned = tiny("learned", 1, 32);
  learned.max_seq = 8;
  mg::Gpt m(learned);
  EXPECT_THROW(m->hidden(torch::zeros({1, 9}, torch::kInt64)), mg::Error);
  EXPECT_THROW(m->hidden(torch::zeros({1, 4}, torch::kInt32)), mg::Error);
}

TEST(Flops, PalmFormulaOnTheTinyShape) {
  auto c = tiny("rope");
  const double n = 12.0 * 4 * 128 * 128 + 32.0 * 128;
  EXPECT_DOUBLE_EQ(mg::flops_per_token(c, 16, true), 6 * n + 12.0 * 4 * 16 * 128);
  EXPECT_DOUBLE_EQ(mg::flops_per_token(c, 16, false), 2 * n + 4.0 * 4 * 16 * 128);
  EXPECT_DOUBLE_EQ(mg::flops_per_token(c, 16, true), 4841472.0);
}

}  // namespace
