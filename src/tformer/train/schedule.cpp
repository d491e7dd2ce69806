#include "tformer/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "tformer/core/error.h"

namespace tformer::train {

double LinearSchedule::lr_at(int64_t step) const {
  // The same double arithmetic as the Python lambda, so the learning rates
  // agree to the last bit.
  double factor;
  if (step < warmup_steps) {
    factor = double(step) / double(std::max<int64_t>(1, warmup_steps));
  } else {
    factor = std::max(0.0, double(total_steps - step) /
                               double(std::max<int64_t>(1, total_steps - warmup_steps)));
  }
  return peak_lr * factor;
}

int64_t warmup_steps_from_ratio(double ratio, int64_t total_steps) {
  TF_CHECK(ratio >= 0 && ratio <= 1, "warm-up ratio must be in [0, 1], got " << ratio);
  TF_CHECK(total_steps >= 0, "total steps must not be negative, got " << total_steps);
  return static_cast<int64_t>(std::ceil(double(total_steps) * ratio));
}

}  // namespace tformer::train
