#include "models/gpt_config.h"

#include "core/errors.h"

namespace mg {

void GptConfig::validate() const {
  auto bad = [](const std::string& what) { fail_input("model: " + what); };
  if (vocab < 1) bad("vocab must be positive (got " + std::to_string(vocab) + ")");
  if (n_layer < 1) bad("n_layer must be positive (got " + std::to_string(n_layer) + ")");
  if (n_head < 1) bad("n_head must be positive (got " + std::to_string(n_head) + ")");
  if (d_model < 1 || d_model % n_head != 0)
    bad("d_model (" + std::to_string(d_model) + ") must be a positive multiple of n_head (" +
        std::to_string(n_head) + ")");
  if (max_seq < 1) bad("max_seq must be positive (got " + std::to_string(max_seq) + ")");
  if (!(dropout >= 0.0 && dropout < 1.0)) bad("dropout must be in [0, 1)");
  if (pos != "learned" && pos != "rope" && pos != "none")
    bad("pos must be learned, rope or none (got '" + pos + "')");
  // Rotary embeddings turn pairs of channels: the head dimension must be even.
  if (pos == "rope" && head_dim() % 2 != 0)
    bad("pos: rope needs an even head dimension (d_model / n_head = " + std::to_string(head_dim()) + ")");
}

GptConfig GptConfig::from(const ModelConfig& m, int vocab) {
  GptConfig c;
  c.vocab = vocab;
  c.n_layer = m.n_layer;
  c.n_head = m.n_head;
  c.d_model = m.d_model;
  c.max_seq = m.max_seq;
  c.dropout = m.dropout;
  c.pos = m.pos;
  c.validate();
  return c;
}

}  // namespace mg
