// The static decoding step (GptImpl::hidden_step_static) and DecodeGraph (models/decode_graph.h)
// against the module path: on the CPU the static step itself, on a GPU the captured graph.
#include <cmath>
#include <cstdlib>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/decode_graph.h"
#include "models/decoder.h"
#include "models/gpt.h"

namespace {

mg::Gpt tiny(const std::string& pos) {
  mg::GptConfig c;
  c.vocab = 29, c.n_layer = 3, c.n_head = 3, c.d_model = 30, c.max_seq = 40, c.pos = pos;
  mg::Gpt m(c);
  m->eval();
  return m;
}

// Every step's logits of decoding `prompts` with MINDGAP_DECODE = `mode` ("" for the default).
std::vector<torch::Tensor> decode(mg::Gpt& model, const std::vector<std::vector<int>>& prompts, int steps,
                                  const std::string& mode, const torch::Device& device, bool* captured = nullptr) {
  if (!mode.empty()) ::setenv("MINDGAP_DECODE", mode.c_str(), 1);
  mg::Decoder dec(model, static_cast<int64_t>(prompts.size()), 16 + steps, device);
  ::unsetenv("MINDGAP_DECODE");
  std::vector<torch::Tensor> out{dec.prefill(prompts).cpu()};
  EXPECT_EQ(dec.graph_steps(), mode == "graph");
  for (int s = 0; s < steps; ++s) {
    auto next = torch::empty({static_cast<int64_t>(prompts.size())}, torch::kInt64);
    for (int64_t i = 0; i < next.size(0); ++i) next[i] = (5 * s + 3 * i + 2) % 29;
    out.push_back(dec.step(next).cpu());
  }
  if (captured != nullptr) *captured = dec.graph_captured();
  return out;
}

TEST(DecodeGraph, StaticStepsEqualTheModulePathOnTheCpu) {
  const std::vector<std::vector<int>> prompts = {{1, 2, 3, 4, 5, 6}, {7}, {8, 9, 10}, {11, 12}};
  for (const std::string pos : {"rope", "learned", "none"}) {
    torch::manual_seed(3);
    auto model = tiny(pos);
    bool captured = true;
    const auto got = decode(model, prompts, 9, "graph", torch::kCPU, &captured);
    const auto want = decode(model, prompts, 9, "modules", torch::kCPU);
    EXPECT_FALSE(captured) << "no graph on the CPU: the static step runs as it is";
    for (size_t s = 0; s < want.size(); ++s)
      EXPECT_TRUE(torch::allclose(got[s], want[s], 1e-5, 1e-5))
          << pos << " step " << s << " max diff " << (got[s] - want[s]).abs().max().item<float>();
  }
}

TEST(DecodeGraph, SlotsNotYetWrittenNeverReachTheOutput) {
  // The cache's storage full of NaN, as uninitialised memory can be: the first step must zero
  // what it masks, or 0 * NaN would reach every row.
  torch::manual_seed(4);
  auto model = tiny("rope");
  const int64_t B = 3;
  mg::KvCache cache(3, B, 3, 12, 10, torch::kCPU), reference(3, B, 3, 12, 10, torch::kCPU);
  for (int64_t l = 0; l < 3; ++l) {
    auto [k, v] = cache.storage(l, torch::kFloat32);
    k.fill_(NAN), v.fill_(NAN);
  }
  c10::InferenceMode inference;
  mg::DecodeGraph graph(model, cache);
  const auto tokens = torch::tensor({3, 7, 11}, torch::kInt64), zeros = torch::zeros({B}, torch::kInt64);
  auto got = graph.step(tokens, zeros, zeros, 0);
  auto want = model->hidden_at(tokens.view({B, 1}), zeros.view({B, 1}), torch::Tensor(), &reference);
  ASSERT_TRUE(torch::isfinite(got).all().item<bool>());
  EXPECT_TRUE(torch::allclose(got, want.view({B, -1}), 1e-5, 1e-5));
  EXPECT_EQ(cache.length(), 1);
}

TEST(DecodeGraph, CapturedStepsEqualTheModulePathOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU: the CUDA-graph decoding step not checked";
  const std::vector<std::vector<int>> prompts = {{1, 2, 3, 4, 5, 6}, {7}, {8, 9, 10}, {11, 12}};
  for (const std::string pos : {"rope", "learned"}) {
    torch::manual_seed(5);
    auto model = tiny(pos);
    model->to(torch::kCUDA);
    bool captured = false;
    const auto got = decode(model, prompts, 9, "graph", torch::kCUDA, &captured);
    const auto want = decode(model, prompts, 9, "modules", torch::kCUDA);
    EXPECT_TRUE(captured);
    for (size_t s = 0; s < want.size(); ++s)
      EXPECT_TRUE(torch::allclose(got[s], want[s], 1e-4, 1e-4))
          << pos << " step " << s << " max diff " << (got[s] - want[s]).abs().max().item<float>();
  }
}

}  // namespace
