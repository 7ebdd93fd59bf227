#pragma once
// The tokenizer: a SentencePiece character model. Every character of the task is one token
// (numbers tokenize per digit, grids per cell) and every special token (tok::*) is one
// user-defined symbol. No dummy prefix, no whitespace folding, identity normalisation: so
// decode(encode(text)) == text for text over the trained characters, and encoding segments
// one by one equals encoding their concatenation (example weights line up with tokens).
// Ids: 0 <pad>, 1 <unk>, then the special tokens in tok::all_specials() order, then (a run that
// teaches the pairwise format) tok::pair_specials(), then the characters by corpus frequency.
// No BOS/EOS: tok::kEnd ends an answer.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tasks/example.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace mg {

class Tokenizer {
 public:
  // Trains on the corpus and writes model_path (atomically). vocab_size is an upper bound:
  // the vocabulary is exactly what the corpus needs (2 + 14 specials, + 5 with `pairs`, + its
  // distinct characters); BadInput if that exceeds vocab_size.
  static Tokenizer train(const std::vector<std::string>& corpus, int vocab_size,
                         const std::string& model_path, bool pairs = false);
  // BadInput if missing, corrupt, or not a mindgap tokenizer (special tokens missing).
  static Tokenizer load(const std::string& model_path);

  std::vector<int> encode(const std::string& text) const;
  // Ids outside the vocabulary (a model whose embedding is padded past vocab_size) decode
  // as unknown (" ⁇ "), so they can never form a correct answer; pad decodes to nothing.
  std::string decode(const std::vector<int>& ids) const;
  int vocab_size() const;
  std::string piece(int id) const;  // the piece text of an id ("<eoa>", "7", ...)

  int pad_id() const { return pad_id_; }
  int unk_id() const { return unk_id_; }
  int end_id() const { return special_ids_[0]; }
  int verify_id() const { return special_ids_[1]; }
  int yes_id() const { return special_ids_[2]; }
  int no_id() const { return special_ids_[3]; }
  int score_id(int k) const;  // k in 0..9
  // Whether the pairwise format's tokens are in the vocabulary (tok::pair_specials()).
  bool has_pairs() const { return !pair_ids_.empty(); }
  // The id of a pairwise token, tok::pair_specials()[k]; BadInput when the run has none.
  int pair_id(int k) const;

  // Tokens and per-token weights of an example (segments encoded one by one, concatenated).
  std::pair<std::vector<int>, std::vector<float>> encode_example(const Example& e) const;

  // The serialized model (what train writes and load reads).
  const std::string& serialized() const { return serialized_; }

 private:
  Tokenizer(std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp, std::string serialized);
  static Tokenizer from_serialized(const std::string& serialized, const std::string& source);

  std::shared_ptr<const sentencepiece::SentencePieceProcessor> sp_;  // shared: Tokenizer copies cheaply
  std::string serialized_;
  int pad_id_ = 0;
  int unk_id_ = 1;
  std::vector<int> special_ids_;  // tok::all_specials() order
  std::vector<int> pair_ids_;     // tok::pair_specials() order; empty without them
};

}  // namespace mg
