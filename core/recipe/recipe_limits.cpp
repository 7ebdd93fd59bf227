#include "core/recipe/recipe_limits.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

#include "core/errors.h"
#include "core/tasks/example.h"
#include "core/tasks/task.h"
#include "core/tasks/verification.h"

namespace mg {

namespace {

// Tokens of a text under the per-character tokenizer: a special token is one.
int token_count(const std::string& text) {
  int n = static_cast<int>(text.size());
  std::vector<std::string> specials = tok::all_specials();
  for (const std::string& s : tok::pair_specials()) specials.push_back(s);
  for (const std::string& s : specials)
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + s.size()))
      n -= static_cast<int>(s.size()) - 1;
  return n;
}

// The difficulties a run can reach: pretraining's range and every curriculum value.
std::vector<Range> reachable(const Recipe& r) {
  std::vector<Range> out{difficulty_for_round(r, 0)};
  for (Range d : curriculum_steps(r)) out.push_back(d);
  return out;
}

std::string gib(double bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  return s;
}

}  // namespace

int longest_example_tokens(const Recipe& recipe) {
  auto task = make_task(recipe.task);
  int longest = 0;
  for (Range d : reachable(recipe)) {
    longest = std::max(longest, task->max_chars(d) + 1);  // prompt, answer, end token
    const Range widest{d.hi, d.hi};
    for (uint64_t i = 0; i < 64; ++i) {
      Problem p = task->generate(0x5eed, i, widest);
      for (const auto& format : trained_verify_formats(recipe))
        for (uint64_t k = 0; k < 3; ++k) {
          std::string candidate = k == 0 ? p.answer : task->wrong_answer(p, i * 3 + k);
          const Example e = format == kPairFormat ? pair_example(*task, p, candidate, task->wrong_answer(p, i * 3 + 7), 1.0f)
                                                  : verification_example(*task, p, candidate, format, 1.0f);
          longest = std::max(longest, token_count(example_text(e)));
        }
    }
  }
  return longest;
}

MemoryNeed memory_lower_bound(const Recipe& r) {
  const double d = r.model.d_model, layers = r.model.n_layer, seq = r.model.max_seq, vocab = r.tokenizer.vocab_size;
  // Weights, gradients and AdamW's two moments: 16 bytes a parameter at the least.
  const double params = layers * 12 * d * d + vocab * d;
  // A step keeps at least each layer's MLP hidden activation (4 d values a token) for the
  // backward pass, and the logits, at 2 bytes a value (bf16); the examples of the whole batch
  // are built on the host first (at least ~96 bytes each and 2 a token).
  auto step = [&](double batch, double accum) {
    const double micro = std::ceil(batch / accum);
    return micro * seq * (layers * 4 * d * 2 + vocab * 2) + batch * (96 + 2 * seq);
  };
  const std::vector<std::pair<std::string, double>> terms = {
      {"model.d_model", params * 16},
      {"pretrain.batch", step(r.pretrain.batch, r.pretrain.grad_accum)},
      {"improve.distill.batch", step(r.improve.distill.batch, 1)},
      // Every sample of a round is held at once (at least ~64 bytes each).
      {"improve.prompts_per_round", double(r.improve.prompts_per_round) * r.improve.samples_per_prompt * 64},
      {"task.eval_prompts", double(r.task.eval_prompts) * (96 + 2 * seq)},
  };
  MemoryNeed need;
  double biggest = -1;
  for (const auto& [key, bytes] : terms) {
    need.bytes = std::max(need.bytes, bytes + (key == "model.d_model" ? 0 : params * 16));
    if (bytes > biggest) {
      biggest = bytes;
      need.key = key;
    }
  }
  return need;
}

int vocabulary_needed(const Recipe& recipe) {
  const std::string alphabet = make_task(recipe.task)->alphabet();
  const std::set<char> characters(alphabet.begin(), alphabet.end());
  const size_t pairs = teaches_pairs(recipe) ? tok::pair_specials().size() : 0;
  return static_cast<int>(2 + tok::all_specials().size() + pairs + characters.size());
}

void check_recipe_limits(const Recipe& recipe, double physical_bytes) {
  const int vocabulary = vocabulary_needed(recipe);
  if (vocabulary > recipe.tokenizer.vocab_size)
    fail_input(recipe.source + ": tokenizer.vocab_size: " + std::to_string(recipe.tokenizer.vocab_size) +
               " is too small: this task needs " + std::to_string(vocabulary) + " tokens" +
               (teaches_pairs(recipe) ? " (the tournament's pairwise format adds 5)" : ""));
  const int longest = longest_example_tokens(recipe);
  if (longest > recipe.model.max_seq)
    fail_input(recipe.source + ": model.max_seq: " + std::to_string(recipe.model.max_seq) +
               " is too short: the longest example at the widest difficulty (task and improve.curriculum) takes " +
               std::to_string(longest) + " tokens");
  if (physical_bytes <= 0) physical_bytes = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGE_SIZE));
  const MemoryNeed need = memory_lower_bound(recipe);
  if (physical_bytes > 0 && need.bytes > physical_bytes)
    fail_input(recipe.source + ": " + need.key + ": too large: a step would need at least " + gib(need.bytes) +
               " of memory, more than this machine's " + gib(physical_bytes) +
               (need.key == "pretrain.batch" ? " (lower it, or raise pretrain.grad_accum)" : ""));
}

}  // namespace mg
