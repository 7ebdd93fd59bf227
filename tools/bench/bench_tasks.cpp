// Throughput of the data side of a round: problem generation, exact grading, near-miss wrong
// answers, tokenizer training and example encoding (single thread). Prints one line each.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/tasks/verification.h"
#include "core/tokenizer/tokenizer.h"
#include "tools/parse_args.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bench(const mg::TaskConfig& config, mg::Range d, const std::string& label) {
  auto task = mg::make_task(config);
  const int n = 20000;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<mg::Problem> problems;
  for (int i = 0; i < n; ++i) problems.push_back(task->generate(1, static_cast<uint64_t>(i), d));
  double gen = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  std::vector<std::string> wrong;
  for (int i = 0; i < n; ++i) wrong.push_back(task->wrong_answer(problems[i], static_cast<uint64_t>(i)));
  double wr = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  int correct = 0;
  for (int i = 0; i < n; ++i) correct += task->grade(problems[i].prompt, problems[i].answer) +
                                         task->grade(problems[i].prompt, wrong[i]);
  double gr = seconds_since(t0);
  if (correct != n) std::printf("  grader disagreement: %d of %d\n", correct, n);

  auto corpus = mg::tokenizer_corpus(*task, d, 1, 10000);
  auto path = (std::filesystem::temp_directory_path() / ("mg_bench_" + label + ".model")).string();
  t0 = std::chrono::steady_clock::now();
  auto tk = mg::Tokenizer::train(corpus, 64, path);
  double train = seconds_since(t0);
  std::filesystem::remove(path);
  t0 = std::chrono::steady_clock::now();
  size_t tokens = 0;
  for (int i = 0; i < n; ++i) {
    tokens += tk.encode_example(mg::generation_example(problems[i])).first.size();
    tokens += tk.encode_example(mg::verification_example(*task, problems[i], wrong[i], "cot", 1.f)).first.size();
  }
  double enc = seconds_since(t0);
  std::printf("%-14s generate %8.0f/s  wrong_answer %8.0f/s  grade %8.0f/s  tokenizer: vocab %d, "
              "train on 10k texts %.2f s, encode %.2fM tokens/s\n",
              label.c_str(), n / gen, n / wr, 2 * n / gr, tk.vocab_size(), train, tokens / enc / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"throughput of problem generation, grading, wrong answers and the tokenizer (no options)"};
  if (auto rc = mg::cli::parse_args(app, argc, argv)) return *rc;
  mg::TaskConfig c;
  c.name = "addition";
  bench(c, {1, 5}, "addition");
  c.name = "multiplication";
  bench(c, {1, 5}, "multiplication");
  c.name = "sudoku";
  c.size = 4;
  bench(c, {4, 10}, "sudoku4");
  c.size = 9;
  bench(c, {30, 50}, "sudoku9");
  return 0;
}
