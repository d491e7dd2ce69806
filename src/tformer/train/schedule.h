// Learning-rate schedule: linear warm-up from 0 to the peak, then linear decay
// to 0, as transformers' get_linear_schedule_with_warmup.
#pragma once
#include <cstdint>

namespace tformer::train {

struct LinearSchedule {
  double peak_lr = 0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;

  // The learning rate for optimizer step `step` (0-based). transformers builds
  // the schedule on LambdaLR, which sets lr = peak·factor(0) at construction
  // and advances after each optimizer.step(), so step k runs at peak·factor(k)
  // (step 0 of a warm-up runs at lr 0), where
  //   factor(s) = s / max(1, warmup)                            while s < warmup
  //   factor(s) = max(0, (total − s) / max(1, total − warmup))  afterwards.
  double lr_at(int64_t step) const;
};

// TrainingArguments.get_warmup_steps: ceil(total_steps · ratio).
int64_t warmup_steps_from_ratio(double ratio, int64_t total_steps);

}  // namespace tformer::train
