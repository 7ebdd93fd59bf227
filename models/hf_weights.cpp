#include "models/hf_weights.h"

#include <cmath>
#include <map>

#include <torch/torch.h>

#include "core/errors.h"

namespace mg {

namespace {

// How a tensor is laid out in the transformers checkpoint relative to mindgap's.
enum class Layout {
  Same,
  Transposed,   // GPT-2's Conv1D: weight [in, out] where torch's Linear has [out, in]
  HeadGrouped,  // GPT-NeoX's query_key_value: rows [q_h k_h v_h] per head, mindgap's [q | k | v]
};

struct Slot {
  std::string mg, hf;
  std::vector<int64_t> shape;  // mindgap's
  Layout layout;
};

bool is_gpt2(const GptConfig& c) { return c.pos == "learned"; }

// A tensor's name and layout in one checkpoint scheme.
struct Naming {
  const char* name;
  Layout layout;
};

// The tensors of every block, in mindgap's module order: mindgap's name under blocks.<l>., the
// shape in multiples of d_model ([out * D, in * D] and a bias of [out * D]; in = 0 marks a
// LayerNorm, weight and bias of [D]) and the name and layout under each scheme's block prefix.
struct BlockTensor {
  const char* mg;
  int64_t out, in;
  Naming gpt2, neox;
};
constexpr BlockTensor kBlockTensors[] = {
    {"ln1", 1, 0, {"ln_1", Layout::Same}, {"input_layernorm", Layout::Same}},
    {"attn.qkv", 3, 1, {"attn.c_attn", Layout::Transposed}, {"attention.query_key_value", Layout::HeadGrouped}},
    {"attn.proj", 1, 1, {"attn.c_proj", Layout::Transposed}, {"attention.dense", Layout::Same}},
    {"ln2", 1, 0, {"ln_2", Layout::Same}, {"post_attention_layernorm", Layout::Same}},
    {"fc", 4, 1, {"mlp.c_fc", Layout::Transposed}, {"mlp.dense_h_to_4h", Layout::Same}},
    {"proj", 1, 4, {"mlp.c_proj", Layout::Transposed}, {"mlp.dense_4h_to_h", Layout::Same}},
};

// The names outside the blocks, and which column of kBlockTensors a scheme uses.
struct Scheme {
  const char* wte;
  const char* wpe;    // "" where the positions are not learned
  const char* layer;  // block l's tensors are under <layer><l>.
  const char* ln_f;
  Naming BlockTensor::*block;
};
constexpr Scheme kGpt2{"transformer.wte", "transformer.wpe", "transformer.h.", "transformer.ln_f", &BlockTensor::gpt2};
constexpr Scheme kNeox{"gpt_neox.embed_in", "", "gpt_neox.layers.", "gpt_neox.final_layer_norm", &BlockTensor::neox};

// Every tensor of the model, in mindgap's module order.
std::vector<Slot> slots(const GptConfig& c) {
  const Scheme& scheme = is_gpt2(c) ? kGpt2 : kNeox;
  const int64_t D = c.d_model;
  std::vector<Slot> s;
  auto linear = [&](const std::string& mg, const std::string& hf, int64_t out, int64_t in, Layout w) {
    s.push_back({mg + ".weight", hf + ".weight", {out, in}, w});
    s.push_back({mg + ".bias", hf + ".bias", {out}, w == Layout::HeadGrouped ? w : Layout::Same});
  };
  auto norm = [&](const std::string& mg, const std::string& hf) {
    s.push_back({mg + ".weight", hf + ".weight", {D}, Layout::Same});
    s.push_back({mg + ".bias", hf + ".bias", {D}, Layout::Same});
  };
  s.push_back({"wte.weight", std::string(scheme.wte) + ".weight", {c.vocab, D}, Layout::Same});
  if (*scheme.wpe) s.push_back({"wpe.weight", std::string(scheme.wpe) + ".weight", {c.max_seq, D}, Layout::Same});
  for (int l = 0; l < c.n_layer; ++l) {
    const std::string m = "blocks." + std::to_string(l) + ".", h = scheme.layer + std::to_string(l) + ".";
    for (const BlockTensor& t : kBlockTensors) {
      const Naming& n = t.*scheme.block;
      if (t.in == 0) norm(m + t.mg, h + n.name);
      else linear(m + t.mg, h + n.name, t.out * D, t.in * D, n.layout);
    }
  }
  norm("ln_f", scheme.ln_f);
  return s;
}

std::vector<int64_t> hf_shape(const Slot& s) {
  if (s.layout == Layout::Transposed) return {s.shape[1], s.shape[0]};
  return s.shape;
}

// [3, H, hd, rest...] <-> [H, 3, hd, rest...]: the same swap both ways.
torch::Tensor swap_kind_and_head(const torch::Tensor& t, int64_t first, int64_t second, int64_t head_dim) {
  std::vector<int64_t> split = {first, second, head_dim};
  for (int64_t i = 1; i < t.dim(); ++i) split.push_back(t.size(i));
  return t.reshape(split).transpose(0, 1).reshape(t.sizes()).contiguous();
}

torch::Tensor to_hf_layout(const torch::Tensor& t, const Slot& s, const GptConfig& c) {
  switch (s.layout) {
    case Layout::Transposed: return t.t().contiguous();
    case Layout::HeadGrouped: return swap_kind_and_head(t, 3, c.n_head, c.head_dim());
    case Layout::Same: break;
  }
  return t.contiguous();
}

torch::Tensor from_hf_layout(const torch::Tensor& t, const Slot& s, const GptConfig& c) {
  switch (s.layout) {
    case Layout::Transposed: return t.t().contiguous();
    case Layout::HeadGrouped: return swap_kind_and_head(t, c.n_head, 3, c.head_dim());
    case Layout::Same: break;
  }
  return t.contiguous();
}

std::string shape_text(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Causal-mask and rotary-frequency buffers that older transformers saved with the weights.
bool is_saved_buffer(const std::string& name) {
  for (const char* buffer : {".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias",
                             ".rotary_emb.inv_freq"})
    if (ends_with(name, buffer)) return true;
  return false;
}

}  // namespace

std::string hf_architecture(const std::string& pos) {
  return pos == "learned" ? "GPT2LMHeadModel" : "GPTNeoXForCausalLM";
}

HfModel to_hf(const GptConfig& c, const NamedTensors& state, int end_id, int pad_id) {
  c.validate();
  std::map<std::string, torch::Tensor> by_name(state.begin(), state.end());
  HfModel out;
  for (const Slot& s : slots(c)) {
    auto it = by_name.find(s.mg);
    check(it != by_name.end(), "hf export: the model has no tensor " + s.mg);
    check(it->second.sizes() == at::IntArrayRef(s.shape), "hf export: " + s.mg + " has shape " +
                                                              shape_text(it->second.sizes()) + ", expected " +
                                                              shape_text(s.shape));
    auto t = it->second.detach().to(torch::kCPU, torch::kFloat32);
    out.tensors.emplace_back(s.hf, to_hf_layout(t, s, c));
    by_name.erase(it);
  }
  check(by_name.empty(), "hf export: the model has a tensor this mapping does not know: " +
                             (by_name.empty() ? std::string() : by_name.begin()->first));
  const double p = c.dropout;
  nlohmann::json j;
  if (is_gpt2(c)) {
    j = {{"architectures", {"GPT2LMHeadModel"}}, {"model_type", "gpt2"}, {"vocab_size", c.vocab},
         {"n_positions", c.max_seq}, {"n_embd", c.d_model}, {"n_layer", c.n_layer}, {"n_head", c.n_head},
         {"n_inner", 4 * c.d_model}, {"activation_function", "gelu_pytorch_tanh"}, {"resid_pdrop", p},
         {"embd_pdrop", p}, {"attn_pdrop", p}, {"layer_norm_epsilon", 1e-5}, {"scale_attn_weights", true},
         {"scale_attn_by_inverse_layer_idx", false}, {"reorder_and_upcast_attn", false},
         {"add_cross_attention", false}};
  } else {
    const double rotary = c.pos == "rope" ? 1.0 : 0.0;
    j = {{"architectures", {"GPTNeoXForCausalLM"}}, {"model_type", "gpt_neox"}, {"vocab_size", c.vocab},
         {"hidden_size", c.d_model}, {"num_hidden_layers", c.n_layer}, {"num_attention_heads", c.n_head},
         {"intermediate_size", 4 * c.d_model}, {"hidden_act", "gelu_pytorch_tanh"},
         {"attention_dropout", p}, {"hidden_dropout", p}, {"max_position_embeddings", c.max_seq},
         {"layer_norm_eps", 1e-5}, {"use_parallel_residual", false}, {"attention_bias", true},
         {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", 10000.0}, {"partial_rotary_factor", rotary}}},
         // The same two settings under the names transformers 4.x reads.
         {"rotary_pct", rotary}, {"rotary_emb_base", 10000.0}};
  }
  j["tie_word_embeddings"] = true;
  j["bos_token_id"] = nullptr;
  j["eos_token_id"] = end_id;
  j["pad_token_id"] = pad_id;
  j["dtype"] = "float32";
  j["use_cache"] = true;
  out.config = std::move(j);
  return out;
}

GptConfig gpt_config_from_hf(const nlohmann::json& j, const std::string& source) {
  auto refuse = [&](const std::string& what) {
    fail_input(source + ": " + what + ": mindgap's model cannot compute that exactly");
  };
  auto number = [&](const char* key, double fallback) -> double {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_number()) fail_input(source + ": " + key + " is not a number");
    return j[key].get<double>();
  };
  auto integer = [&](const char* key) -> int {
    if (!j.contains(key) || !j[key].is_number_integer()) fail_input(source + ": " + key + " missing or not an integer");
    return j[key].get<int>();
  };
  auto flag = [&](const char* key, bool fallback) -> bool {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    if (!j[key].is_boolean()) fail_input(source + ": " + key + " is not true or false");
    return j[key].get<bool>();
  };
  auto gelu = [&](const char* key, const char* fallback) {
    std::string act = j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
    // gelu_new is the same tanh formula written out (equal to ~1e-7); "gelu" is the exact erf form.
    if (act != "gelu_pytorch_tanh" && act != "gelu_new") refuse(std::string(key) + " '" + act + "' (mindgap: tanh GELU)");
  };
  if (!j.is_object()) fail_input(source + ": not a JSON object");
  const std::string type = j.value("model_type", "");
  GptConfig c;
  c.vocab = integer("vocab_size");
  if (type == "gpt2") {
    c.pos = "learned";
    c.n_layer = integer("n_layer");
    c.n_head = integer("n_head");
    c.d_model = integer("n_embd");
    c.max_seq = integer("n_positions");
    gelu("activation_function", "gelu_new");
    if (number("n_inner", 4.0 * c.d_model) != 4.0 * c.d_model) refuse("n_inner other than 4 * n_embd");
    if (std::abs(number("layer_norm_epsilon", 1e-5) - 1e-5) > 1e-12) refuse("layer_norm_epsilon other than 1e-5");
    if (!flag("scale_attn_weights", true)) refuse("scale_attn_weights false");
    if (flag("scale_attn_by_inverse_layer_idx", false)) refuse("scale_attn_by_inverse_layer_idx");
    if (flag("add_cross_attention", false)) refuse("add_cross_attention");
    if (!flag("tie_word_embeddings", true)) refuse("tie_word_embeddings false");
  } else if (type == "gpt_neox") {
    c.n_layer = integer("num_hidden_layers");
    c.n_head = integer("num_attention_heads");
    c.d_model = integer("hidden_size");
    c.max_seq = integer("max_position_embeddings");
    gelu("hidden_act", "gelu");
    if (number("intermediate_size", 0) != 4.0 * c.d_model) refuse("intermediate_size other than 4 * hidden_size");
    if (std::abs(number("layer_norm_eps", 1e-5) - 1e-5) > 1e-12) refuse("layer_norm_eps other than 1e-5");
    if (flag("use_parallel_residual", true)) refuse("use_parallel_residual true (mindgap's blocks are sequential)");
    if (!flag("attention_bias", true)) refuse("attention_bias false");
    if (!flag("tie_word_embeddings", false)) refuse("tie_word_embeddings false");
    // transformers 5 keeps the rotary settings in rope_parameters; 4.x in rotary_pct/rotary_emb_base.
    double rotary = number("rotary_pct", 0.25), base = number("rotary_emb_base", 10000.0);
    std::string rope_type = "default";
    if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
      const auto& r = j["rope_parameters"];
      rotary = r.value("partial_rotary_factor", rotary);
      base = r.value("rope_theta", base);
      rope_type = r.value("rope_type", r.value("type", std::string("default")));
    } else if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
      refuse("rope_scaling");
    }
    if (rope_type != "default") refuse("rope_type '" + rope_type + "'");
    if (rotary == 0.0) {
      c.pos = "none";
    } else if (rotary == 1.0) {
      c.pos = "rope";
      if (base != 10000.0) refuse("rotary base " + std::to_string(base) + " (mindgap: 10000)");
    } else {
      refuse("partial_rotary_factor " + std::to_string(rotary) + " (mindgap: 1, or 0 for no positions)");
    }
  } else {
    fail_input(source + ": model_type '" + type + "' is not one mindgap imports (gpt2 or gpt_neox)");
  }
  try {
    c.validate();
  } catch (const Error& e) {
    fail_input(source + ": " + e.what());
  }
  return c;
}

NamedTensors from_hf(const GptConfig& c, const NamedTensors& tensors, const std::string& source) {
  std::map<std::string, torch::Tensor> by_name;
  const bool gpt2 = is_gpt2(c);
  for (const auto& [name, t] : tensors) {
    // GPT-2 checkpoints of OpenAI's own layout name the base model's tensors without the prefix.
    std::string key = gpt2 && name.rfind("transformer.", 0) != 0 && name != "lm_head.weight" ? "transformer." + name : name;
    by_name[key] = t;
  }
  NamedTensors out;
  torch::Tensor embedding;
  for (const Slot& s : slots(c)) {
    auto it = by_name.find(s.hf);
    if (it == by_name.end()) fail_input(source + ": no tensor " + s.hf);
    const auto want = hf_shape(s);
    if (it->second.sizes() != at::IntArrayRef(want))
      fail_input(source + ": " + s.hf + " has shape " + shape_text(it->second.sizes()) + ", config.json implies " +
                 shape_text(want));
    auto t = from_hf_layout(it->second.to(torch::kCPU, torch::kFloat32), s, c);
    if (s.mg == "wte.weight") embedding = t;
    out.emplace_back(s.mg, t);
    by_name.erase(it);
  }
  // The output embedding: mindgap ties it to the input one, so a stored copy must be that.
  for (const char* head : {"lm_head.weight", "embed_out.weight"}) {
    auto it = by_name.find(head);
    if (it == by_name.end()) continue;
    if (!torch::equal(it->second.to(torch::kCPU, torch::kFloat32), embedding))
      fail_input(source + ": " + head + " differs from the input embedding: mindgap ties the two");
    by_name.erase(it);
  }
  for (const auto& entry : by_name)
    if (!is_saved_buffer(entry.first)) fail_input(source + ": tensor " + entry.first + " is not part of mindgap's model");
  return out;
}

}  // namespace mg
