// Log-prob dispatcher: the autograd Function around the chunked passes, the GPU passes (cuBLAS
// GEMMs through libtorch + the chunk kernels of logprob.cu) and the naive reference.
#include "kernels/logprob.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <limits>

#include "core/errors.h"
#include "kernels/logprob_cuda.h"
#ifdef MINDGAP_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace mg::kernels {
namespace {

LogprobStats forward_any(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                         bool with_entropy) {
  return H.is_cuda() ? logprob_forward_cuda(H, W, targets, with_entropy)
                     : logprob_forward_cpu(H, W, targets, with_entropy);
}

class TokenLogprobFunction : public torch::autograd::Function<TokenLogprobFunction> {
 public:
  // mask is always defined here (all true when the caller gave none).
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& H,
                               const torch::Tensor& W, const torch::Tensor& targets, const torch::Tensor& mask) {
    LogprobStats st = forward_any(H, W, targets, /*with_entropy=*/false);
    ctx->save_for_backward({H, W, targets, mask, st.lse});
    return torch::where(mask, st.logprob, torch::zeros_like(st.logprob));
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_out) {
    const auto saved = ctx->get_saved_variables();
    const auto &H = saved[0], &W = saved[1], &targets = saved[2], &mask = saved[3], &lse = saved[4];
    const auto g = torch::where(mask, grad_out[0].to(torch::kFloat32), torch::zeros_like(lse));
    auto [dH, dW] = H.is_cuda() ? logprob_backward_cuda(H, W, targets, lse, g)
                                : logprob_backward_cpu(H, W, targets, lse, g);
    return {dH, dW, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor token_logprob(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                            const torch::Tensor& mask) {
  check_logprob_inputs(H, W, targets, mask);
  const auto m = mask.defined() ? mask : torch::ones({H.size(0)}, H.options().dtype(torch::kBool));
  return TokenLogprobFunction::apply(H, W, targets, m);
}

LogprobResult token_logprob_entropy(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets,
                                    bool with_entropy) {
  check_logprob_inputs(H, W, targets, {});
  torch::NoGradGuard no_grad;
  LogprobStats st = forward_any(H, W, targets, with_entropy);
  return {st.logprob, st.entropy};
}

torch::Tensor token_logprob_naive(const torch::Tensor& H, const torch::Tensor& W, const torch::Tensor& targets) {
  const auto logits = torch::mm(H, W.t());
  const auto dtype = logits.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  return torch::log_softmax(logits, 1, dtype).gather(1, targets.unsqueeze(1)).squeeze(1);
}

#ifdef MINDGAP_HAVE_CUDA
namespace {

// One chunk of logits in fp32. For bf16 inputs cuBLAS accumulates in fp32 and writes fp32
// (mm with out_dtype); where that overload is refused, fall back to converting the chunk.
torch::Tensor chunk_logits(const torch::Tensor& H, const torch::Tensor& Wc) {
  if (H.scalar_type() == torch::kFloat32) return torch::mm(H, Wc.t());
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 9)
  try {
    return at::mm(H, Wc.t(), torch::kFloat32);
  } catch (const c10::Error&) {
  }
#endif
  return torch::mm(H.to(torch::kFloat32), Wc.to(torch::kFloat32).t());
}

void* stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

}  // namespace

LogprobStats logprob_forward_cuda(const torch::Tensor& H_in, const torch::Tensor& W, const torch::Tensor& targets_in,
                                  bool with_entropy, int64_t chunk) {
  check(chunk > 0, "logprob: chunk must be positive");
  torch::NoGradGuard no_grad;
  c10::cuda::CUDAGuard guard(H_in.device());
  const auto H = H_in.contiguous();
  const auto targets = targets_in.contiguous();
  const int64_t N = H.size(0), V = W.size(0);
  const auto f32 = H.options().dtype(torch::kFloat32);
  auto m = torch::full({N}, -std::numeric_limits<float>::infinity(), f32);
  auto s = torch::zeros({N}, f32);
  auto t = torch::zeros({N}, f32);
  auto target_logit = torch::full({N}, std::numeric_limits<float>::quiet_NaN(), f32);
  for (int64_t v0 = 0; v0 < V && N > 0; v0 += chunk) {
    const int64_t c = std::min(chunk, V - v0);
    const auto Z = chunk_logits(H, W.narrow(0, v0, c)).contiguous();
    logprob_chunk_update_launch(Z.data_ptr<float>(), N, c, v0, targets.data_ptr<int64_t>(), m.data_ptr<float>(),
                                s.data_ptr<float>(), with_entropy ? t.data_ptr<float>() : nullptr,
                                target_logit.data_ptr<float>(), stream());
  }
  return finish_logprob_stats(m, s, t, target_logit, with_entropy);
}

std::pair<torch::Tensor, torch::Tensor> logprob_backward_cuda(const torch::Tensor& H_in, const torch::Tensor& W,
                                                              const torch::Tensor& targets_in, const torch::Tensor& lse_in,
                                                              const torch::Tensor& grad, int64_t chunk) {
  check(chunk > 0, "logprob: chunk must be positive");
  torch::NoGradGuard no_grad;
  c10::cuda::CUDAGuard guard(H_in.device());
  const auto H = H_in.contiguous();
  const auto targets = targets_in.contiguous();
  const auto lse = lse_in.to(torch::kFloat32).contiguous();
  const auto g = grad.to(torch::kFloat32).contiguous();
  const int64_t N = H.size(0), V = W.size(0), D = H.size(1);
  const auto H32 = H.to(torch::kFloat32);
  auto dH = torch::zeros({N, D}, H.options().dtype(torch::kFloat32));
  auto dW = torch::empty({V, D}, H.options().dtype(torch::kFloat32));
  for (int64_t v0 = 0; v0 < V; v0 += chunk) {
    const int64_t c = std::min(chunk, V - v0);
    const auto Wc = W.narrow(0, v0, c);
    auto P = chunk_logits(H, Wc).contiguous();
    if (N > 0)
      logprob_chunk_grad_launch(P.data_ptr<float>(), N, c, v0, targets.data_ptr<int64_t>(), lse.data_ptr<float>(),
                                g.data_ptr<float>(), stream());
    dH.addmm_(P, Wc.to(torch::kFloat32));
    auto dWc = dW.narrow(0, v0, c);
    torch::mm_out(dWc, P.t(), H32);
  }
  return {dH.to(H.scalar_type()), dW.to(W.scalar_type())};
}
#else
LogprobStats logprob_forward_cuda(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, bool, int64_t) {
  fail_input("this mindgap was built without CUDA kernels (MINDGAP_CUDA=OFF)");
}
std::pair<torch::Tensor, torch::Tensor> logprob_backward_cuda(const torch::Tensor&, const torch::Tensor&,
                                                              const torch::Tensor&, const torch::Tensor&,
                                                              const torch::Tensor&, int64_t) {
  fail_input("this mindgap was built without CUDA kernels (MINDGAP_CUDA=OFF)");
}
#endif

}  // namespace mg::kernels
