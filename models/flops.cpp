#include "models/flops.h"

#include "core/errors.h"

namespace mg {

double flops_per_token(const GptConfig& c, int seq_len, bool training) {
  if (seq_len < 1) fail_input("flops_per_token: seq_len must be positive");
  const double L = c.n_layer, d = c.d_model, V = c.vocab, T = seq_len;
  const double n_matmul = 12.0 * L * d * d + V * d;
  const double forward = 2.0 * n_matmul + 4.0 * L * T * d;
  return training ? 3.0 * forward : forward;
}

}  // namespace mg
