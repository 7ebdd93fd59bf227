#include "trainers/training/optimizer.h"

namespace mg {

std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& model, double lr, double weight_decay) {
  std::vector<torch::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  auto opts = torch::optim::AdamWOptions(lr).betas({0.9, 0.95}).eps(1e-8);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(opts.weight_decay(weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(opts.weight_decay(0.0)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups), opts);
}

void set_lr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
}

double clip_gradients(torch::nn::Module& model, double clip) {
  if (clip <= 0) {
    double sq = 0;
    for (auto& p : model.parameters())
      if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
    return std::sqrt(sq);
  }
  return torch::nn::utils::clip_grad_norm_(model.parameters(), clip);
}

}  // namespace mg
