#include "tools/bench/bench_support.h"

#include <unistd.h>

#include <torch/torch.h>

#include "models/decoder.h"

namespace mg::bench {

namespace fs = std::filesystem;

ScratchDir::ScratchDir(const std::string& name)
    : path_(fs::temp_directory_path() / (name + "." + std::to_string(::getpid()))) {
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;  // a destructor must not throw; a leftover temp directory is harmless
  fs::remove_all(path_, ec);
}

mg::Recipe ScratchDir::load_recipe(const std::string& recipe, int threads) const {
  return mg::load_recipe(find_tool_file(recipe), {"run.dir=" + (path_ / "run").string(),
                                                  "run.threads=" + std::to_string(threads), "run.device=cpu"});
}

torch::Tensor greedy_tokens(mg::Decoder& dec, const std::vector<std::vector<int>>& prompts, int steps) {
  auto logits = dec.prefill(prompts);
  std::vector<torch::Tensor> out;
  for (int t = 0; t < steps; ++t) {
    auto next = logits.argmax(-1);
    out.push_back(next);
    if (t + 1 < steps) logits = dec.step(next);
  }
  return torch::stack(out, 1);
}

}  // namespace mg::bench
