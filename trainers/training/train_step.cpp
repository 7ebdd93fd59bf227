#include "trainers/training/train_step.h"

#include <cmath>
#include <csignal>
#include <limits>
#include <optional>

#include "core/distributed/grad_sync.h"
#include "core/distributed/overlapped_grad_sync.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/run/stop_signal.h"
#include "trainers/training/autocast.h"
#include "trainers/training/loss.h"
#include "trainers/training/optimizer.h"
#include "trainers/run/stop_hook.h"

namespace mg {

std::string StepPlace::describe() const {
  return stage + ", round " + std::to_string(round) + ", step " + std::to_string(step);
}

bool accept_step(double loss, double grad_norm, const std::string& policy, const StepPlace& place) {
  if (std::isfinite(loss) && std::isfinite(grad_norm)) return true;
  const std::string what = "non-finite training numbers in " + place.describe() + " (loss " + std::to_string(loss) +
                           ", gradient norm " + std::to_string(grad_norm) + ")";
  if (policy == "skip") {
    log::warn(what + ": the step is skipped (run.nonfinite=skip)");
    return false;
  }
  fail_internal(what + ": training stopped before the update, nothing of the step was kept. The usual cause is a "
                "learning rate too high for the model (pretrain.lr, improve.distill.lr); run.nonfinite=skip "
                "skips such steps instead and counts them");
}

StepResult train_step(RunContext& ctx, Gpt& model, torch::optim::Optimizer& optimizer,
                      const std::vector<Example>& global_batch, const std::vector<float>& example_weights,
                      int grad_accum, double lr, double grad_clip, const StepPlace& place) {
  const int W = ctx.comm->world_size(), rank = ctx.comm->rank();
  std::vector<std::vector<Example>> micro(grad_accum);
  std::vector<std::vector<float>> micro_w(grad_accum);
  int k = 0;
  for (size_t i = rank; i < global_batch.size(); i += W, ++k) {
    micro[k % grad_accum].push_back(global_batch[i]);
    micro_w[k % grad_accum].push_back(example_weights.empty() ? 1.0f : example_weights[i]);
  }
  std::vector<TokenBatch> batches;
  double local_weight = 0;
  StepResult out;
  for (int m = 0; m < grad_accum; ++m) {
    if (micro[m].empty()) continue;
    batches.push_back(make_batch(micro[m], *ctx.tokenizer, ctx.recipe.model.max_seq, micro_w[m]));
    local_weight += batches.back().weights.sum().item<double>();
    out.tokens += batches.back().tokens;
  }
  // The second slot says whether a rank was signalled: the step is the job's safe point,
  // agreed at no extra cost.
  const int signal = stop_signal_received();
  auto totals = torch::tensor({local_weight, signal ? 1.0 : 0.0}, torch::kFloat64);
  ctx.comm->all_reduce_sum(totals);
  if (totals[1].item<double>() > 0) stop_at(signal ? signal : SIGTERM, "in " + place.describe() + " (before it)");
  const double total_weight = std::max(totals[0].item<double>(), 1e-12);
  const bool poison = inject_nonfinite(place.stage, place.round, place.step);

  model->train();
  optimizer.zero_grad();
  double local_loss = 0;
  const bool overlap = W > 1 && ctx.recipe.run.overlap_grad_sync;
  std::optional<OverlappedGradSync> sync;
  for (size_t m = 0; m < batches.size(); ++m) {
    // Only the last micro-step's backward completes the gradients: its hooks send them.
    if (overlap && m + 1 == batches.size()) sync.emplace(*model, *ctx.comm);
    AutocastScope autocast(ctx.precision, ctx.device.is_cuda());
    auto wl = weighted_loss(model, batches[m], ctx.device);
    if (poison) wl.sum = wl.sum * std::numeric_limits<double>::quiet_NaN();
    // Scaled by W because gradients are averaged over ranks below.
    (wl.sum * (static_cast<double>(W) / total_weight)).backward();
    local_loss += wl.sum.item<double>();
  }
  if (overlap) {
    if (!sync) sync.emplace(*model, *ctx.comm);  // no examples on this rank: it still joins
    sync->finish();
  } else if (W > 1) {
    all_reduce_gradients(*model, *ctx.comm);  // a rank with no examples joins with zeros
  }
  out.grad_norm = clip_gradients(*model, grad_clip);
  auto loss_t = torch::tensor({local_loss}, torch::kFloat64);
  ctx.comm->all_reduce_sum(loss_t);
  out.loss = loss_t[0].item<double>() / total_weight;
  if (!accept_step(out.loss, out.grad_norm, ctx.recipe.run.nonfinite, place)) {
    optimizer.zero_grad();
    out.skipped = true;
    return out;
  }
  set_lr(optimizer, lr);
  optimizer.step();
  return out;
}

}  // namespace mg
