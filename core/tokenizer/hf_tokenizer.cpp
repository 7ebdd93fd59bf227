#include "core/tokenizer/hf_tokenizer.h"

#include <algorithm>

#include "core/errors.h"

namespace mg {

namespace {

// SentencePiece writes a space as U+2581 ("lower one eighth block") inside pieces.
const char* const kSpaceMark = "\xE2\x96\x81";

nlohmann::json added_token(int id, const std::string& content, bool special) {
  // normalized=false: matched on the raw text, as SentencePiece matches user-defined symbols
  // before any character of them could become a piece of its own.
  return {{"id", id},           {"content", content}, {"single_word", false}, {"lstrip", false},
          {"rstrip", false},    {"normalized", false}, {"special", special}};
}

// The ids that are not plain characters: <pad> and <unk> (control: "special" to transformers,
// so skip_special_tokens drops them) and the task's symbols (<eoa>, <verify>, <yes>, ... are
// text the model reads and writes, decoded as written, as mindgap decodes them).
std::vector<std::pair<int, bool>> symbol_ids(const Tokenizer& t) {
  std::vector<std::pair<int, bool>> ids = {{t.pad_id(), true}, {t.unk_id(), true}};
  for (int id : {t.end_id(), t.verify_id(), t.yes_id(), t.no_id()}) ids.push_back({id, false});
  for (int k = 0; k < tok::kScoreLevels; ++k) ids.push_back({t.score_id(k), false});
  return ids;
}

}  // namespace

nlohmann::json hf_tokenizer_json(const Tokenizer& tokenizer) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int id = 0; id < tokenizer.vocab_size(); ++id) vocab[tokenizer.piece(id)] = id;
  nlohmann::json added = nlohmann::json::array();
  auto symbols = symbol_ids(tokenizer);
  std::sort(symbols.begin(), symbols.end());
  for (const auto& [id, special] : symbols) added.push_back(added_token(id, tokenizer.piece(id), special));
  nlohmann::json model = {
      {"type", "BPE"},           {"dropout", nullptr},   {"unk_token", tokenizer.piece(tokenizer.unk_id())},
      {"continuing_subword_prefix", nullptr},              {"end_of_word_suffix", nullptr},
      {"fuse_unk", false},       {"byte_fallback", false}, {"ignore_merges", false},
      {"vocab", vocab},          {"merges", nlohmann::json::array()}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpaceMark}}},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", {{"type", "Replace"}, {"pattern", {{"String", kSpaceMark}}}, {"content", " "}}},
          {"model", model}};
}

nlohmann::json hf_tokenizer_config(const Tokenizer& tokenizer, int model_max_length) {
  return {{"tokenizer_class", "PreTrainedTokenizerFast"},
          {"pad_token", tokenizer.piece(tokenizer.pad_id())},
          {"unk_token", tokenizer.piece(tokenizer.unk_id())},
          {"eos_token", tokenizer.piece(tokenizer.end_id())},
          {"clean_up_tokenization_spaces", false},
          {"model_max_length", model_max_length}};
}

void check_hf_tokenizer_json(const nlohmann::json& tokenizer_json, const Tokenizer& tokenizer,
                             const std::string& source) {
  const nlohmann::json* vocab = nullptr;
  if (tokenizer_json.contains("model") && tokenizer_json["model"].contains("vocab"))
    vocab = &tokenizer_json["model"]["vocab"];
  if (vocab == nullptr || !vocab->is_object()) fail_input(source + ": no model.vocab object");
  if (static_cast<int>(vocab->size()) != tokenizer.vocab_size())
    fail_input(source + ": " + std::to_string(vocab->size()) + " tokens, but tokenizer.model has " +
               std::to_string(tokenizer.vocab_size()));
  for (int id = 0; id < tokenizer.vocab_size(); ++id) {
    const std::string piece = tokenizer.piece(id);
    auto it = vocab->find(piece);
    if (it == vocab->end() || !it->is_number_integer() || it->get<int>() != id)
      fail_input(source + ": token '" + piece + "' does not have id " + std::to_string(id) +
                 " as in tokenizer.model");
  }
}

}  // namespace mg
