// The SentencePiece tokenizer: round trips on every task, one token per special token and
// per digit, segment-wise encoding equal to whole-text encoding, reload, corrupt files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/errors.h"
#include "core/fs.h"
#include "core/tasks/verification.h"
#include "core/tokenizer/tokenizer.h"

namespace {

namespace stdfs = std::filesystem;

class TokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = stdfs::temp_directory_path() /
           ("mg_tokenizer_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    stdfs::remove_all(dir_);
    stdfs::create_directories(dir_);
  }
  void TearDown() override { stdfs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  stdfs::path dir_;
};

struct TaskCase {
  std::string name;
  int size;
  mg::Range difficulty;
  int characters;  // distinct characters of the task
};
const std::vector<TaskCase> kTasks = {{"addition", 4, {1, 3}, 12},
                                      {"multiplication", 4, {1, 3}, 12},
                                      {"sudoku", 4, {2, 8}, 6},
                                      {"sudoku", 9, {10, 40}, 11}};

std::unique_ptr<mg::Task> make(const TaskCase& c) {
  mg::TaskConfig config;
  config.name = c.name;
  config.size = c.size;
  return mg::make_task(config);
}

TEST_F(TokenizerTest, RoundTripsEveryTaskWithTheSmallestVocabulary) {
  for (const TaskCase& c : kTasks) {
    SCOPED_TRACE(c.name + std::to_string(c.size));
    auto task = make(c);
    auto corpus = mg::tokenizer_corpus(*task, c.difficulty, 1, 400);
    auto tk = mg::Tokenizer::train(corpus, 32, path("t.model"));
    // <pad>, <unk>, 14 special tokens, the task's characters: nothing else.
    EXPECT_EQ(tk.vocab_size(), 2 + 14 + c.characters);
    EXPECT_EQ(tk.pad_id(), 0);
    EXPECT_EQ(tk.piece(tk.end_id()), "<eoa>");
    // Fresh examples (other seed), every format, correct and wrong candidates.
    for (uint64_t i = 0; i < 100; ++i) {
      auto p = task->generate(99, i, c.difficulty);
      std::string candidate = i % 2 ? p.answer : task->wrong_answer(p, i);
      for (const mg::Example& e :
           {mg::generation_example(p), mg::verification_example(*task, p, candidate, "direct", 1.f),
            mg::verification_example(*task, p, candidate, "cot", 1.f),
            mg::verification_example(*task, p, candidate, "score", 1.f)}) {
        std::string text = mg::example_text(e);
        auto ids = tk.encode(text);
        ASSERT_EQ(tk.decode(ids), text);
        for (int id : ids) ASSERT_NE(id, tk.unk_id()) << text;
        // Segment by segment equals the whole text, weights one per token.
        auto [seg_ids, weights] = tk.encode_example(e);
        ASSERT_EQ(seg_ids, ids);
        ASSERT_EQ(weights.size(), ids.size());
        // Every character one token: the token count is the text length with each special
        // token counted once.
        size_t expected = text.size();
        for (const auto& s : mg::tok::all_specials())
          for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at + 1))
            expected -= s.size() - 1;
        ASSERT_EQ(ids.size(), expected) << text;
      }
    }
  }
}

TEST_F(TokenizerTest, SpecialTokensAndDigitsAreSingleTokens) {
  mg::TaskConfig config;
  config.name = "addition";
  auto task = mg::make_task(config);
  auto tk = mg::Tokenizer::train(mg::tokenizer_corpus(*task, {1, 2}, 3, 200), 64, path("a.model"));
  std::set<int> ids;
  for (const auto& s : mg::tok::all_specials()) {
    auto enc = tk.encode(s);
    ASSERT_EQ(enc.size(), 1u) << s;
    EXPECT_EQ(tk.piece(enc[0]), s);
    ids.insert(enc[0]);
  }
  EXPECT_EQ(ids.size(), 14u);
  EXPECT_EQ(tk.encode(mg::tok::kEnd)[0], tk.end_id());
  EXPECT_EQ(tk.encode(mg::tok::kVerify)[0], tk.verify_id());
  EXPECT_EQ(tk.encode(mg::tok::kYes)[0], tk.yes_id());
  EXPECT_EQ(tk.encode(mg::tok::kNo)[0], tk.no_id());
  for (int k = 0; k < 10; ++k) EXPECT_EQ(tk.encode(mg::tok::score(k))[0], tk.score_id(k));
  EXPECT_EQ(ids.count(tk.pad_id()), 0u);
  auto digits = tk.encode("0123456789");
  ASSERT_EQ(digits.size(), 10u);
  for (int d = 0; d < 10; ++d) EXPECT_EQ(tk.piece(digits[d]), std::string(1, static_cast<char>('0' + d)));
  // Repeated digits stay one token each (no merges of frequent pairs).
  EXPECT_EQ(tk.encode("0000011111").size(), 10u);
  EXPECT_EQ(tk.encode("62+85=741<verify>741<yes>").size(), 14u);  // 9 + 1 + 3 + 1
}

TEST_F(TokenizerTest, ReloadEqualsTrained) {
  mg::TaskConfig config;
  config.name = "sudoku";
  auto task = mg::make_task(config);
  auto trained = mg::Tokenizer::train(mg::tokenizer_corpus(*task, {3, 6}, 5, 100), 40, path("s.model"));
  auto loaded = mg::Tokenizer::load(path("s.model"));
  ASSERT_EQ(loaded.vocab_size(), trained.vocab_size());
  for (int id = 0; id < trained.vocab_size(); ++id) EXPECT_EQ(loaded.piece(id), trained.piece(id));
  EXPECT_EQ(loaded.serialized(), trained.serialized());
  EXPECT_EQ(loaded.end_id(), trained.end_id());
  EXPECT_EQ(loaded.score_id(7), trained.score_id(7));
  auto p = task->generate(1, 1, {3, 6});
  auto e = mg::verification_example(*task, p, p.answer, "cot", 1.f);
  EXPECT_EQ(loaded.encode_example(e), trained.encode_example(e));
  // Copies share the model and behave the same.
  mg::Tokenizer copy = loaded;
  EXPECT_EQ(copy.encode(p.prompt), trained.encode(p.prompt));
}

TEST_F(TokenizerTest, TooSmallVocabularyIsBadInput) {
  mg::TaskConfig config;
  config.name = "addition";
  auto task = mg::make_task(config);
  auto corpus = mg::tokenizer_corpus(*task, {1, 2}, 3, 50);
  try {
    mg::Tokenizer::train(corpus, 27, path("small.model"));
    FAIL() << "no error";
  } catch (const mg::Error& e) {
    EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput);
    EXPECT_NE(std::string(e.what()).find("needs 28"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(stdfs::exists(path("small.model")));
  EXPECT_EQ(mg::Tokenizer::train(corpus, 28, path("ok.model")).vocab_size(), 28);
}

TEST_F(TokenizerTest, MissingOrCorruptFilesAreBadInput) {
  mg::TaskConfig config;
  config.name = "addition";
  auto task = mg::make_task(config);
  auto good = mg::Tokenizer::train(mg::tokenizer_corpus(*task, {1, 2}, 3, 50), 32, path("good.model"));
  const std::string bytes = good.serialized();
  auto expect_bad = [&](const std::string& file) {
    try {
      mg::Tokenizer::load(file);
      ADD_FAILURE() << file << ": loaded";
    } catch (const mg::Error& e) {
      EXPECT_EQ(e.kind(), mg::ErrorKind::BadInput) << e.what();
    }
  };
  expect_bad(path("missing.model"));
  mg::fs::write_file_atomic(path("empty.model"), "");
  expect_bad(path("empty.model"));
  mg::fs::write_file_atomic(path("text.model"), "this is not a tokenizer\n");
  expect_bad(path("text.model"));
  mg::fs::write_file_atomic(path("half.model"), bytes.substr(0, bytes.size() / 2));
  expect_bad(path("half.model"));
  std::string flipped = bytes;
  for (size_t i = 0; i < flipped.size(); i += 7) flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
  mg::fs::write_file_atomic(path("flipped.model"), flipped);
  expect_bad(path("flipped.model"));
}

TEST_F(TokenizerTest, OutOfVocabularyIdsDecodeAsUnknown) {
  mg::TaskConfig config;
  config.name = "addition";
  auto task = mg::make_task(config);
  auto tk = mg::Tokenizer::train(mg::tokenizer_corpus(*task, {1, 2}, 3, 50), 32, path("a.model"));
  auto ids = tk.encode("741");
  std::vector<int> with_bad = {ids[0], tk.vocab_size() + 3, ids[1], -1, ids[2]};
  std::string text = tk.decode(with_bad);
  EXPECT_NE(text, "741");
  EXPECT_EQ(text.find("7"), 0u);
  EXPECT_FALSE(task->grade("62+85=", text));
  EXPECT_EQ(tk.decode(tk.encode("xyz")).find("xyz"), std::string::npos);  // unknown characters
}

}  // namespace
