// The fused CPU decoding step (kernels/decode_attention.h, GptImpl::hidden_step_cpu) against its
// references: the kernel against attention written out in tensor operators, and whole decoding
// steps against the module path (MINDGAP_DECODE=modules), at awkward sizes.
#include <cstdlib>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "kernels/decode_attention.h"
#include "models/decoder.h"
#include "models/gpt.h"
#include "models/rope.h"

namespace {

// Attention of one new token per row, in plain operators: rotate, write the slot, mask the
// slots before key_start, softmax, weighted sum.
torch::Tensor reference(const torch::Tensor& qkv, torch::Tensor& kc, torch::Tensor& vc, int64_t slot,
                        const torch::Tensor& key_start, const torch::Tensor& cos, const torch::Tensor& sin, int64_t H) {
  const int64_t B = qkv.size(0), hd = kc.size(3), D = H * hd;
  auto q = qkv.narrow(1, 0, D).view({B, H, hd});
  auto k = qkv.narrow(1, D, D).view({B, H, hd});
  auto v = qkv.narrow(1, 2 * D, D).view({B, H, hd});
  if (cos.defined()) {
    q = mg::apply_rope(q, cos.unsqueeze(1), sin.unsqueeze(1));
    k = mg::apply_rope(k, cos.unsqueeze(1), sin.unsqueeze(1));
  }
  kc.select(2, slot).copy_(k);
  vc.select(2, slot).copy_(v);
  auto keys = kc.narrow(2, 0, slot + 1), values = vc.narrow(2, 0, slot + 1);
  auto scores = torch::einsum("bhd,bhsd->bhs", {q, keys}) / std::sqrt(static_cast<double>(hd));
  auto slots = torch::arange(slot + 1, torch::kInt64).view({1, 1, slot + 1});
  scores = scores.masked_fill(slots < key_start.view({B, 1, 1}), -INFINITY);
  return torch::einsum("bhs,bhsd->bhd", {scores.softmax(-1), values}).reshape({B, D});
}

TEST(DecodeAttention, KernelEqualsOperatorsAtAwkwardSizes) {
  torch::manual_seed(7);
  struct Case {
    int64_t B, H, hd, cap, slot;
    bool rotary;
  };
  for (const Case c : {Case{1, 1, 2, 1, 0, true}, Case{7, 3, 6, 11, 8, true}, Case{5, 2, 10, 9, 8, false},
                       Case{33, 5, 4, 40, 17, true}, Case{3, 4, 16, 130, 129, true},
                       // head widths with blocks of 32 and 16 output sums and a tail after them
                       Case{6, 2, 32, 21, 20, true}, Case{4, 3, 56, 19, 12, true}, Case{2, 1, 40, 7, 6, false}}) {
    const int64_t D = c.H * c.hd;
    auto qkv = torch::randn({c.B, 3 * D});
    auto kc = torch::randn({c.B, c.H, c.cap, c.hd}), vc = torch::randn({c.B, c.H, c.cap, c.hd});
    auto kc_ref = kc.clone(), vc_ref = vc.clone();
    auto key_start = torch::randint(0, c.slot + 1, {c.B}, torch::kInt64);
    torch::Tensor cos, sin;
    if (c.rotary) std::tie(cos, sin) = mg::rope_tables(c.slot - key_start, c.hd);
    auto got = mg::kernels::decode_attention_cpu(qkv, kc, vc, c.slot, key_start, cos, sin, c.H);
    auto want = reference(qkv, kc_ref, vc_ref, c.slot, key_start, cos, sin, c.H);
    const std::string where = "B=" + std::to_string(c.B) + " H=" + std::to_string(c.H) + " hd=" + std::to_string(c.hd) +
                              " slot=" + std::to_string(c.slot);
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << where << " max diff " << (got - want).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(kc, kc_ref, 1e-6, 1e-6)) << where << ": the k slot";
    EXPECT_TRUE(torch::equal(vc, vc_ref)) << where << ": the v slot, and nothing else touched";
  }
}

// Decodes `prompts` for `steps` tokens with the fused step or the modules, returning every step's logits.
std::vector<torch::Tensor> decode(mg::Gpt& model, const std::vector<std::vector<int>>& prompts, int steps,
                                  bool fused) {
  if (!fused) ::setenv("MINDGAP_DECODE", "modules", 1);
  mg::Decoder dec(model, static_cast<int64_t>(prompts.size()), 16 + steps, torch::kCPU);
  ::unsetenv("MINDGAP_DECODE");
  EXPECT_EQ(dec.fused_steps(), fused);
  std::vector<torch::Tensor> out{dec.prefill(prompts)};
  for (int s = 0; s < steps; ++s) {
    auto next = torch::empty({static_cast<int64_t>(prompts.size())}, torch::kInt64);
    for (int64_t i = 0; i < next.size(0); ++i) next[i] = (5 * s + 3 * i + 2) % 29;
    out.push_back(dec.step(next));
  }
  return out;
}

TEST(DecodeAttention, FusedStepsEqualTheModulePath) {
  for (const std::string pos : {"rope", "learned", "none"}) {
    for (const bool padded : {true, false}) {
      torch::manual_seed(11);
      mg::GptConfig c;
      c.vocab = 29, c.n_layer = 3, c.n_head = 3, c.d_model = 30, c.max_seq = 40, c.pos = pos;
      mg::Gpt model(c);
      std::vector<std::vector<int>> prompts;
      for (int i = 0; i < 5; ++i) prompts.push_back(std::vector<int>(padded ? 1 + (i * 3) % 7 : 4, 1 + i));
      auto fused = decode(model, prompts, 9, true);
      auto modules = decode(model, prompts, 9, false);
      for (size_t s = 0; s < fused.size(); ++s)
        EXPECT_TRUE(torch::allclose(fused[s], modules[s], 1e-5, 1e-5))
            << pos << (padded ? " padded" : "") << " step " << s << " max diff "
            << (fused[s] - modules[s]).abs().max().item<float>();
      EXPECT_TRUE(model->is_training()) << "the training flag is restored";
    }
  }
}

// Enough rows that the fused step splits them between two threads (GptImpl::hidden_step_cpu).
TEST(DecodeAttention, RowsSplitBetweenThreadsGiveTheSameSteps) {
  const int before = at::get_num_threads();
  at::set_num_threads(2);
  torch::manual_seed(13);
  mg::GptConfig c;
  c.vocab = 29, c.n_layer = 2, c.n_head = 2, c.d_model = 12, c.max_seq = 40, c.pos = "rope";
  mg::Gpt model(c);
  std::vector<std::vector<int>> prompts;
  for (int i = 0; i < 300; ++i) prompts.push_back(std::vector<int>(1 + i % 5, 1 + i % 20));
  auto fused = decode(model, prompts, 4, true);
  auto modules = decode(model, prompts, 4, false);
  at::set_num_threads(before);
  for (size_t s = 0; s < fused.size(); ++s)
    EXPECT_TRUE(torch::allclose(fused[s], modules[s], 1e-5, 1e-5))
        << "step " << s << " max diff " << (fused[s] - modules[s]).abs().max().item<float>();
}

TEST(DecodeAttention, Bf16ModelsKeepTheModulePath) {
  mg::GptConfig c;
  c.vocab = 29, c.n_layer = 1, c.n_head = 2, c.d_model = 8, c.pos = "rope";
  mg::Gpt model(c);
  model->to(torch::kBFloat16);
  mg::Decoder dec(model, 2, 8, torch::kCPU);
  EXPECT_FALSE(dec.fused_steps());
}

}  // namespace
