#include "core/tokenizer/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "core/errors.h"
#include "core/fs.h"

namespace mg {

namespace {

// Feeds the corpus to the trainer without a temporary file.
class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return lines_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& lines_;
  size_t i_ = 0;
};

// The special tokens are user-defined symbols: their letters ('<', 'e', 'o', 'a', ...) must
// not become pieces of their own, so they are cut out of the training text.
std::string without_specials(std::string text) {
  std::vector<std::string> specials = tok::all_specials();
  for (const std::string& s : tok::pair_specials()) specials.push_back(s);
  for (const std::string& s : specials) {
    for (size_t at = text.find(s); at != std::string::npos; at = text.find(s, at)) text.erase(at, s.size());
  }
  return text;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp, std::string serialized)
    : sp_(std::move(sp)), serialized_(std::move(serialized)) {
  pad_id_ = sp_->pad_id();
  unk_id_ = sp_->unk_id();
  for (const std::string& s : tok::all_specials()) special_ids_.push_back(sp_->PieceToId(s));
  for (const std::string& s : tok::pair_specials()) {
    const int id = sp_->PieceToId(s);
    if (id == unk_id_) break;  // checked whole in from_serialized: all or none
    pair_ids_.push_back(id);
  }
}

Tokenizer Tokenizer::from_serialized(const std::string& serialized, const std::string& source) {
  auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
  auto status = sp->LoadFromSerializedProto(serialized);
  if (!status.ok()) fail_input(source + ": not a valid tokenizer model (" + status.ToString() + ")");
  if (sp->pad_id() < 0) fail_input(source + ": tokenizer model has no <pad> token");
  for (const std::string& s : tok::all_specials()) {
    int id = sp->PieceToId(s);
    if (id == sp->unk_id() || sp->IsControl(id))
      fail_input(source + ": tokenizer model lacks the special token " + s);
  }
  int pairs = 0;
  for (const std::string& s : tok::pair_specials()) pairs += sp->PieceToId(s) != sp->unk_id();
  if (pairs != 0 && pairs != static_cast<int>(tok::pair_specials().size()))
    fail_input(source + ": tokenizer model has only some of the pairwise format's tokens");
  return Tokenizer(std::move(sp), serialized);
}

Tokenizer Tokenizer::train(const std::vector<std::string>& corpus, int vocab_size,
                           const std::string& model_path, bool pairs) {
  std::vector<std::string> specials = tok::all_specials();
  if (pairs)
    for (const std::string& s : tok::pair_specials()) specials.push_back(s);
  std::vector<std::string> lines;
  for (const std::string& text : corpus) {
    std::string t = without_specials(text);
    if (!t.empty()) lines.push_back(std::move(t));
  }
  // A corpus of special tokens only is fine: the vocabulary is then <pad>, <unk> and them.
  if (lines.empty()) lines.push_back(" ");
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", "char"},
      // use_all_vocab keeps every character seen; the requested size is checked below, so
      // the trainer's own limit only has to be out of the way.
      {"use_all_vocab", "true"},
      {"vocab_size", "1000000"},
      {"character_coverage", "1.0"},
      {"user_defined_symbols", join(specials, ",")},
      {"split_digits", "true"},
      {"add_dummy_prefix", "false"},
      {"remove_extra_whitespaces", "false"},
      {"normalization_rule_name", "identity"},
      {"byte_fallback", "false"},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"max_sentence_length", "1000000"},
      {"num_threads", "1"},
      {"minloglevel", "2"},  // the trainer's progress lines are noise here
  };
  VectorIterator it(lines);
  std::string serialized;
  auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &serialized);
  if (!status.ok()) fail_internal("tokenizer training failed: " + status.ToString());
  Tokenizer t = from_serialized(serialized, "trained tokenizer");
  if (t.vocab_size() > vocab_size)
    fail_input("tokenizer.vocab_size " + std::to_string(vocab_size) + " is too small: this task needs " +
               std::to_string(t.vocab_size()) + " tokens (<pad>, <unk>, " +
               std::to_string(specials.size()) + " special tokens and " +
               std::to_string(t.vocab_size() - 2 - static_cast<int>(specials.size())) +
               " characters)");
  fs::write_file_atomic(model_path, serialized);
  return t;
}

Tokenizer Tokenizer::load(const std::string& model_path) {
  if (!fs::exists(model_path)) fail_input(model_path + ": tokenizer model not found");
  return from_serialized(fs::read_file(model_path), model_path);
}

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  auto status = sp_->Encode(text, &ids);
  check(status.ok(), "tokenizer encode failed: " + status.ToString());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  std::vector<int> safe(ids);
  for (int& id : safe)
    if (id < 0 || id >= vocab_size()) id = unk_id_;
  std::string text;
  auto status = sp_->Decode(safe, &text);
  check(status.ok(), "tokenizer decode failed: " + status.ToString());
  return text;
}

int Tokenizer::vocab_size() const { return sp_->GetPieceSize(); }

std::string Tokenizer::piece(int id) const {
  check(id >= 0 && id < vocab_size(), "token id " + std::to_string(id) + " outside the vocabulary");
  return sp_->IdToPiece(id);
}

int Tokenizer::score_id(int k) const {
  check(k >= 0 && k < tok::kScoreLevels, "score token index " + std::to_string(k) + " outside 0..9");
  return special_ids_[4 + static_cast<size_t>(k)];
}

int Tokenizer::pair_id(int k) const {
  if (!has_pairs())
    fail_input("verify method tournament needs the pairwise format, which this run's tokenizer lacks: pretrain "
               "with improve.verify.method=tournament (or an ensemble or sweep with it)");
  check(k >= 0 && k < static_cast<int>(pair_ids_.size()), "pairwise token index " + std::to_string(k) + " out of range");
  return pair_ids_[static_cast<size_t>(k)];
}

std::pair<std::vector<int>, std::vector<float>> Tokenizer::encode_example(const Example& e) const {
  std::pair<std::vector<int>, std::vector<float>> out;
  for (const Segment& seg : e) {
    std::vector<int> ids = encode(seg.text);
    out.first.insert(out.first.end(), ids.begin(), ids.end());
    out.second.insert(out.second.end(), ids.size(), seg.weight);
  }
  return out;
}

}  // namespace mg
