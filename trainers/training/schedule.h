#pragma once
// Linear warmup then cosine decay to lr * min_ratio; the same rule for pretraining and distillation.
#include <algorithm>
#include <cmath>

namespace mg {

inline double scheduled_lr(double lr, int step, int total, int warmup, double min_ratio) {
  if (warmup > 0 && step < warmup) return lr * (step + 1) / warmup;
  if (total <= warmup) return lr;
  double progress = std::clamp(double(step - warmup) / double(total - warmup), 0.0, 1.0);
  return lr * (min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace mg
