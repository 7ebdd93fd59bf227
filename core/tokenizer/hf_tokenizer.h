#pragma once
// The mindgap tokenizer as files that Hugging Face's AutoTokenizer loads without custom code:
// tokenizer.json for the `tokenizers` library and a tokenizer_config.json naming the stock
// PreTrainedTokenizerFast class. transformers cannot convert a SentencePiece *char* model
// itself (its converters know unigram and BPE models only), so the file is written here.
//
// The mapping is exact, not approximate: the SentencePiece model splits text into single
// characters after cutting out the user-defined symbols, with ' ' escaped as U+2581 and no
// other normalisation. In tokenizers that is a Replace(' ' -> U+2581) normaliser, the special
// tokens as added tokens (matched on the raw text, before the model), and a BPE model with the
// same vocabulary and no merges, so each character stays one token and an unknown character
// becomes <unk> on its own, as SentencePiece's char model does (no fusing of unknowns).
#include <string>

#include <nlohmann/json.hpp>

#include "core/tokenizer/tokenizer.h"

namespace mg {

// tokenizer.json: every piece with its mindgap id.
nlohmann::json hf_tokenizer_json(const Tokenizer& tokenizer);

// tokenizer_config.json: the stock fast class, <pad>/<unk>, <eoa> as the end of sequence.
nlohmann::json hf_tokenizer_config(const Tokenizer& tokenizer, int model_max_length);

// BadInput naming `source` unless the tokenizer.json's vocabulary gives every piece of
// `tokenizer` the same id and holds nothing else.
void check_hf_tokenizer_json(const nlohmann::json& tokenizer_json, const Tokenizer& tokenizer,
                             const std::string& source);

}  // namespace mg
