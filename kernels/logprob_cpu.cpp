// CPU twin of the log-prob kernels: the same chunked online log-sum-exp with libtorch ops.
// One [N, chunk] fp32 buffer is alive at a time (the chunk's logits, shifted and exponentiated
// in place; two with the entropy), plus, for bf16, fp32 copies of H and of W's chunk.
// Also what both devices share: the input check and the end of the log-sum-exp.
#include <torch/torch.h>

#include <limits>

#include "core/errors.h"
#include "kernels/logprob.h"

namespace mg::kernels {

void check_logprob_inputs(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                          const torch::Tensor& mask) {
  if (!H.defined() || !W.defined() || !targets.defined())
    fail_input("token_logprob: H, W and targets must be defined");
  if (H.dim() != 2 || W.dim() != 2 || H.size(1) != W.size(1))
    fail_input("token_logprob: H must be [N, D] and W [V, D] with the same D");
  if (W.size(0) < 1) fail_input("token_logprob: W needs at least one row (V >= 1)");
  if (H.scalar_type() != W.scalar_type() ||
      (H.scalar_type() != torch::kFloat32 && H.scalar_type() != torch::kBFloat16))
    fail_input("token_logprob: H and W must both be float32 or both bfloat16");
  if (targets.scalar_type() != torch::kInt64 || targets.dim() != 1 || targets.size(0) != H.size(0))
    fail_input("token_logprob: targets must be int64 [N]");
  if (H.device() != W.device() || H.device() != targets.device())
    fail_input("token_logprob: H, W and targets must be on the same device");
  if (mask.defined() && (mask.scalar_type() != torch::kBool || mask.dim() != 1 || mask.size(0) != H.size(0) ||
                         mask.device() != H.device()))
    fail_input("token_logprob: mask must be bool [N] on H's device");
  if (!H.is_cuda()) {  // on the GPU this check would cost a sync; bad targets give NaN there
    auto bad = (targets < 0) | (targets >= W.size(0));
    if (mask.defined()) bad &= mask;
    if (bad.any().item<bool>()) fail_input("token_logprob: a target is outside [0, V)");
  }
}

LogprobStats finish_logprob_stats(const torch::Tensor& m, const torch::Tensor& s, const torch::Tensor& t,
                                  const torch::Tensor& target_logit, bool with_entropy) {
  const auto log_s = s.log();
  LogprobStats out;
  out.lse = m + log_s;
  out.logprob = target_logit - out.lse;
  if (with_entropy) out.entropy = log_s - t / s;
  return out;
}

LogprobStats logprob_forward_cpu(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                                 bool with_entropy, int64_t chunk) {
  check(chunk > 0, "logprob: chunk must be positive");
  torch::NoGradGuard no_grad;
  const int64_t N = H.size(0), V = W.size(0);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  const auto H32 = H.to(torch::kFloat32).contiguous();
  auto m = torch::full({N}, -std::numeric_limits<float>::infinity(), f32);
  auto s = torch::zeros({N}, f32);
  auto t = torch::zeros({N}, f32);
  auto target_logit = torch::full({N}, std::numeric_limits<float>::quiet_NaN(), f32);
  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t c = std::min(chunk, V - v0);
    auto Z = torch::mm(H32, W.narrow(0, v0, c).to(torch::kFloat32).t());  // [N, c]
    // The target's logit, taken from the same product that enters the sum.
    const auto local = targets - v0;
    const auto inside = (local >= 0) & (local < c);
    const auto picked = Z.gather(1, local.clamp(0, c - 1).unsqueeze(1)).squeeze(1);
    target_logit = torch::where(inside, picked, target_logit);
    const auto m_new = torch::maximum(m, Z.amax(1));
    const auto scale = torch::exp(m - m_new);  // 0 on the first chunk (m = -inf)
    Z.sub_(m_new.unsqueeze(1));
    if (with_entropy) {
      auto E = Z.exp();
      // t = sum exp(z - m) (z - m), rescaled when m moves: sum e^{z-m'} (z-m') = e^{m-m'} (t + s (m-m')).
      const auto shift = torch::where(torch::isfinite(m), m - m_new, torch::zeros_like(m));
      const auto e_sum = E.sum(1);
      t = (t + s * shift) * scale + E.mul_(Z).sum(1);
      s = s * scale + e_sum;
    } else {
      s = s * scale + Z.exp_().sum(1);  // one [N, c] buffer in all
    }
    m = m_new;
  }
  return finish_logprob_stats(m, s, t, target_logit, with_entropy);
}

std::pair<torch::Tensor, torch::Tensor> logprob_backward_cpu(const torch::Tensor& H, const torch::Tensor& W,
                                                             const torch::Tensor& targets, const torch::Tensor& lse,
                                                             const torch::Tensor& grad, int64_t chunk) {
  check(chunk > 0, "logprob: chunk must be positive");
  torch::NoGradGuard no_grad;
  const int64_t N = H.size(0), V = W.size(0), D = H.size(1);
  const auto H32 = H.to(torch::kFloat32).contiguous();
  const auto g = grad.to(torch::kFloat32).contiguous();
  auto dH = torch::zeros({N, D}, torch::kFloat32);
  auto dW = torch::empty({V, D}, torch::kFloat32);
  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t c = std::min(chunk, V - v0);
    const auto Wc = W.narrow(0, v0, c).to(torch::kFloat32);
    // d logprob / d z = onehot(target) - softmax(z); times the incoming gradient.
    auto P = torch::mm(H32, Wc.t());
    P.sub_(lse.unsqueeze(1)).exp_().mul_(-g.unsqueeze(1));
    const auto local = targets - v0;
    const auto inside = (local >= 0) & (local < c);
    P.scatter_add_(1, local.clamp(0, c - 1).unsqueeze(1), torch::where(inside, g, torch::zeros_like(g)).unsqueeze(1));
    dH.addmm_(P, Wc);
    auto dWc = dW.narrow(0, v0, c);
    torch::mm_out(dWc, P.t(), H32);
  }
  return {dH.to(H.scalar_type()), dW.to(W.scalar_type())};
}

}  // namespace mg::kernels
