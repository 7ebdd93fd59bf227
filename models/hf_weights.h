#pragma once
// The mindgap GPT in the form of a stock Hugging Face `transformers` architecture, both ways:
// config.json and the tensors of model.safetensors, loadable with
// AutoModelForCausalLM.from_pretrained and no custom code.
//   pos learned -> GPT2LMHeadModel: the same model (pre-LN, learned positions, fused q|k|v,
//                  tanh GELU, tied unembedding); its Conv1D layers store weights transposed.
//   pos rope    -> GPTNeoXForCausalLM, rotary on every channel of a head (partial_rotary_factor
//                  1, base 10000, the same "rotate half" layout), sequential residual
//                  (use_parallel_residual false), tied embeddings. Its fused query_key_value
//                  is grouped by head ([q_h k_h v_h] per head), mindgap's by kind ([q | k | v]).
//   pos none    -> GPTNeoXForCausalLM with no rotary channel (partial_rotary_factor 0): its
//                  attention then sees no position signal but the causal mask, as mindgap's.
// GELU: mindgap uses the tanh approximation through torch's gelu(approximate="tanh"), which is
// exactly transformers' "gelu_pytorch_tanh". LayerNorm epsilon 1e-5 everywhere, biases on
// every linear layer, a final LayerNorm.
#include <string>

#include <nlohmann/json.hpp>

#include "core/run/safetensors.h"
#include "models/gpt_config.h"

namespace mg {

struct HfModel {
  nlohmann::json config;  // config.json
  NamedTensors tensors;   // model.safetensors (the tied output embedding is not stored twice)
};

// `state` is the model's module_state (fp32 or any float dtype; written as fp32). The token
// ids go into config.json so that generate() stops at <eoa> and pads with <pad>.
HfModel to_hf(const GptConfig& config, const NamedTensors& state, int end_id, int pad_id);

// The mindgap shape that a transformers config.json describes. BadInput naming `source` and
// the setting for anything mindgap's model cannot compute exactly (another architecture,
// GELU, epsilon, parallel residual, partial rotary, untied embeddings, ...).
GptConfig gpt_config_from_hf(const nlohmann::json& config, const std::string& source);

// The tensors of a transformers checkpoint of that config, renamed and relaid as mindgap's
// module_state, in fp32. Buffers that old checkpoints carry (attention masks, rotary
// frequencies) are ignored; an output embedding that differs from the input one, a missing
// tensor or an unknown name is BadInput naming `source`.
NamedTensors from_hf(const GptConfig& config, const NamedTensors& tensors, const std::string& source);

// "GPT2LMHeadModel" or "GPTNeoXForCausalLM": the class a position scheme is exported as.
std::string hf_architecture(const std::string& pos);

}  // namespace mg
