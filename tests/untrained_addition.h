#pragma once
// An addition task, a tokenizer for it and an untrained micro GPT: enough for the verify
// methods whose scores are votes, checked against answers decoded independently.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/tasks/task.h"
#include "core/tasks/verification.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"

namespace mg::testing {

inline std::unique_ptr<Task> addition() {
  TaskConfig c;
  c.name = "addition";
  return make_task(c);
}

inline Tokenizer tokenizer_for(const Task& task) {
  auto path = std::filesystem::temp_directory_path() / ("mg_untrained_" + std::to_string(::getpid()) + ".model");
  auto tk = Tokenizer::train(tokenizer_corpus(task, {1, 3}, 1, 200), 32, path.string());
  std::filesystem::remove(path);
  return tk;
}

// Different init seeds give models that answer differently.
inline Gpt untrained(int vocab, uint64_t init_seed = 7) {
  torch::manual_seed(init_seed);
  GptConfig c;
  c.vocab = vocab;
  c.n_layer = 1;
  c.n_head = 2;
  c.d_model = 32;
  c.max_seq = 32;
  c.pos = "rope";
  return Gpt(c);
}

}  // namespace mg::testing
