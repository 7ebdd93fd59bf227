// Verify method tournament: the pairwise format's examples and tokens, the round robin's
// arithmetic worked by hand, and the scores of a real (untrained) model's matches.
#include "test_paths.h"
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "core/errors.h"
#include "core/recipe/recipe.h"
#include "core/recipe/recipe_limits.h"
#include "core/tasks/task.h"
#include "core/tasks/verification.h"
#include "core/tokenizer/tokenizer.h"
#include "models/gpt.h"
#include "trainers/verifiers/tournament.h"

namespace fs = std::filesystem;

namespace {

std::unique_ptr<mg::Task> addition() {
  mg::TaskConfig c;
  c.name = "addition";
  return mg::make_task(c);
}

// Answers are written least significant digit first: 62 + 85 = 147 is "741".
mg::Problem problem_62_85() { return {"62+85=", "741"}; }

fs::path scratch_file(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("mg_tournament_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST(PairFormat, ExamplesNameWhichCandidateIsRight) {
  auto task = addition();
  const auto p = problem_62_85();
  auto text = [&](const std::string& a, const std::string& b) {
    const auto e = mg::pair_example(*task, p, a, b, 1.0f);
    EXPECT_EQ(e.size(), 2u);
    EXPECT_EQ(e[0].weight, 0.0f);  // the prefix is context, only the verdict is learned
    return mg::example_text(e);
  };
  EXPECT_EQ(text("741", "751"), "62+85=741<vs>751<verify><first>");
  EXPECT_EQ(text("751<eoa>", "741<eoa>"), "62+85=751<vs>741<verify><second>");  // raw samples' end markers go
  EXPECT_EQ(text("751", "742"), "62+85=751<vs>742<verify><neither>");
  EXPECT_EQ(text("741", "741"), "62+85=741<vs>741<verify><both>");
  EXPECT_EQ(mg::pair_verdict(*task, p, "741", "1"), mg::PairVerdict::First);
}

TEST(PairFormat, TokensExistOnlyWhereTheRunTeachesThem) {
  auto task = addition();
  const auto corpus = mg::tokenizer_corpus(*task, {1, 2}, 3, 200);
  const auto plain = mg::Tokenizer::train(corpus, 64, scratch_file("plain.model").string());
  EXPECT_FALSE(plain.has_pairs());
  try {
    plain.pair_id(1);
    ADD_FAILURE() << "a run without the pairwise format gave a pair token";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("tournament"), std::string::npos) << e.what();
  }
  const auto path = scratch_file("pairs.model");
  const auto pairs = mg::Tokenizer::train(corpus, 64, path.string(), /*pairs=*/true);
  ASSERT_TRUE(pairs.has_pairs());
  EXPECT_EQ(pairs.vocab_size(), plain.vocab_size() + 5);
  // Right after the common specials, in pair_specials() order, each one token.
  const int after = 2 + static_cast<int>(mg::tok::all_specials().size());
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(pairs.pair_id(k), after + k);
    EXPECT_EQ(pairs.piece(pairs.pair_id(k)), mg::tok::pair_specials()[k]);
  }
  const auto ids = pairs.encode(mg::pair_prefix("62+85=", "741", "751"));
  EXPECT_EQ(ids.size(), 6u + 3 + 1 + 3 + 1);
  EXPECT_EQ(pairs.decode(ids), "62+85=741<vs>751<verify>");
  EXPECT_TRUE(mg::Tokenizer::load(path.string()).has_pairs());
  fs::remove_all(path.parent_path());
}

TEST(PairFormat, RecipeTeachesPairsAndCountsTheirTokens) {
  const char* yaml = R"(
task: {name: addition, digits: [1, 2]}
tokenizer: {vocab_size: 32}
model: {n_layer: 1, n_head: 2, d_model: 32, max_seq: 32}
pretrain: {steps: 10}
improve: {verify: {method: tournament}}
run: {dir: runs/x}
)";
  try {
    mg::parse_recipe(yaml, "r.yaml");
    ADD_FAILURE() << "vocab_size 32 holds the 28 tokens of addition, not 5 more";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("tokenizer.vocab_size"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("33 tokens"), std::string::npos) << e.what();
  }
  const auto r = mg::parse_recipe(yaml, "r.yaml", {"tokenizer.vocab_size=40"});
  EXPECT_EQ(mg::trained_verify_formats(r), (std::vector<std::string>{"pair"}));
  EXPECT_TRUE(mg::teaches_pairs(r));
  EXPECT_EQ(mg::vocabulary_needed(r), 33);
  const auto ensemble = mg::parse_recipe(yaml, "r.yaml", {"tokenizer.vocab_size=40", "improve.verify.method=ensemble",
                                                          "improve.verify.ensemble=[mc,tournament]"});
  EXPECT_EQ(mg::trained_verify_formats(ensemble), (std::vector<std::string>{"cot", "pair"}));
  const auto without = mg::parse_recipe(yaml, "r.yaml", {"improve.verify.method=mc"});
  EXPECT_FALSE(mg::teaches_pairs(without));
  EXPECT_EQ(mg::vocabulary_needed(without), 28);
}

TEST(RoundRobin, ScoresWorkedByHand) {
  // A lone answer plays itself: its belief that both are right, P(both) / (P(both) + P(neither)).
  auto lone = mg::round_robin_scores(1, [](int, int) { return mg::PairOutcome{0.1, 0.1, 0.6, 0.2}; });
  ASSERT_EQ(lone.size(), 1u);
  EXPECT_NEAR(lone[0], 0.75, 1e-12);
  // Two answers: 0 first wins 0.8 + 0.1/2 = 0.85; 0 second wins 0.7 + 0.1/2 = 0.75 -> 0.8.
  auto two = mg::round_robin_scores(2, [](int i, int j) {
    EXPECT_NE(i, j);
    return i == 0 ? mg::PairOutcome{0.8, 0.1, 0.05, 0.05} : mg::PairOutcome{0.2, 0.7, 0.05, 0.05};
  });
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(two[0], 0.8, 1e-12);
  EXPECT_NEAR(two[1], 0.2, 1e-12);
}

TEST(RoundRobin, PositionBiasCancelsAndWinsAddUp) {
  // A judge that always prefers the first position favours nobody once both orders are played.
  auto biased = mg::round_robin_scores(4, [](int, int) { return mg::PairOutcome{0.9, 0.05, 0.03, 0.02}; });
  for (double s : biased) EXPECT_NEAR(s, 0.5, 1e-12);
  // Whatever the outcomes, each match hands out one win in all: the scores average 1/2.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.01, 1.0);
  for (int k : {2, 3, 5, 8}) {
    auto scores = mg::round_robin_scores(k, [&](int, int) {
      mg::PairOutcome o{u(rng), u(rng), u(rng), u(rng)};
      const double sum = o.first + o.second + o.both + o.neither;
      return mg::PairOutcome{o.first / sum, o.second / sum, o.both / sum, o.neither / sum};
    });
    double total = 0;
    for (double s : scores) {
      EXPECT_GE(s, 0.0);
      EXPECT_LE(s, 1.0);
      total += s;
    }
    EXPECT_NEAR(total / k, 0.5, 1e-12) << k;
  }
}

TEST(Tournament, ScoresOfARealModelFollowItsMatches) {
  auto task = addition();
  const auto path = scratch_file("model.model");
  const auto tokenizer = mg::Tokenizer::train(mg::tokenizer_corpus(*task, {1, 2}, 3, 200), 64, path.string(), true);
  torch::manual_seed(11);
  mg::GptConfig c;
  c.vocab = tokenizer.vocab_size();
  c.n_layer = 1;
  c.n_head = 2;
  c.d_model = 32;
  c.max_seq = 24;
  mg::Gpt model(c);
  model->eval();
  const torch::Device cpu(torch::kCPU);
  const std::vector<std::string> prompts = {"62+85=", "1+1=", "9+9="};
  // Prompt 0: three distinct answers (one twice); prompt 1: all agree; prompt 2: a sample too
  // long for the context plays with the uniform outcome.
  std::vector<mg::ScoredSample> samples = {
      {0, 0, "741<eoa>"}, {0, 1, "751<eoa>"}, {0, 2, "741<eoa>"}, {0, 3, "71<eoa>"},
      {1, 0, "2<eoa>"},   {1, 1, "2<eoa>"},   {2, 0, "81<eoa>"},  {2, 1, std::string(40, '1')},
  };
  const auto scores = mg::tournament_scores(model, tokenizer, prompts, samples, cpu);
  ASSERT_EQ(scores.size(), samples.size());
  EXPECT_DOUBLE_EQ(scores[0], scores[2]);  // the same answer, the same score
  // Prompt 0 by hand from the model's own match outcomes.
  const std::vector<std::string> answers = {"741<eoa>", "751<eoa>", "71<eoa>"};
  std::vector<std::string> ps, firsts, seconds;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      if (i != j) ps.push_back(prompts[0]), firsts.push_back(answers[i]), seconds.push_back(answers[j]);
  const auto outcomes = mg::pair_outcomes(model, tokenizer, ps, firsts, seconds, cpu);
  for (const auto& o : outcomes) EXPECT_NEAR(o.first + o.second + o.both + o.neither, 1.0, 1e-9);
  double win0 = 0;
  for (size_t m = 0; m < outcomes.size(); ++m) {
    if (firsts[m] == answers[0]) win0 += mg::win_of_first(outcomes[m]);
    if (seconds[m] == answers[0]) win0 += mg::win_of_second(outcomes[m]);
  }
  // fp32 logits of a row differ in the last bits with the batch it is padded into.
  EXPECT_NEAR(scores[0], win0 / 4, 1e-6);
  EXPECT_NEAR((scores[0] + scores[1] + scores[3]) / 3, 0.5, 1e-9);
  // All agree: the answer plays itself.
  const auto self = mg::pair_outcomes(model, tokenizer, {prompts[1]}, {"2<eoa>"}, {"2<eoa>"}, cpu)[0];
  EXPECT_NEAR(scores[4], self.both / (self.both + self.neither), 1e-6);
  // The long sample's matches keep the uniform outcome: a draw either way.
  const auto long_match = mg::pair_outcomes(model, tokenizer, {prompts[2]}, {samples[7].answer}, {"81<eoa>"}, cpu)[0];
  EXPECT_DOUBLE_EQ(long_match.first, 0.25);
  fs::remove_all(path.parent_path());
}
