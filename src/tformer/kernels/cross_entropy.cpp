#include "tformer/kernels/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

namespace {
// Per-row losses, so that they can be summed in row order after the parallel
// pass. Owned by the calling thread; grows only.
double* row_loss_scratch(int64_t rows) {
  thread_local std::vector<double> buffer;
  if (static_cast<int64_t>(buffer.size()) < rows) buffer.resize(rows);
  return buffer.data();
}

// One kept row: returns its loss, and writes (softmax − onehot)·scale to grad
// when given. grad may alias x, so x[label] is read before the row is written.
double row_cross_entropy(const float* x, int64_t classes, int32_t label, float* grad, float scale) {
  const float target = x[label];
  const float mx = *std::max_element(x, x + classes);
  double sum = 0.0;
  for (int64_t j = 0; j < classes; ++j) {
    const float e = std::exp(x[j] - mx);
    sum += e;
    if (grad) grad[j] = e;
  }
  if (grad) {
    const float norm = static_cast<float>(scale / sum);
    for (int64_t j = 0; j < classes; ++j) grad[j] *= norm;
    grad[label] -= scale;
  }
  return static_cast<double>(mx) + std::log(sum) - static_cast<double>(target);
}
}  // namespace

float cross_entropy(const float* logits, const int32_t* labels, int64_t rows, int64_t classes,
                    float* dlogits, int32_t ignore_index) {
  int64_t count = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (labels[r] == ignore_index) continue;
    TF_CHECK(labels[r] >= 0 && labels[r] < classes,
             "cross_entropy: label " << labels[r] << " of row " << r << " is outside [0, " << classes
                                     << ") and is not the ignore index " << ignore_index);
    ++count;
  }
  const float scale = count > 0 ? 1.0f / static_cast<float>(count) : 0.0f;
  double* losses = row_loss_scratch(rows);
  // A few thousand logits per chunk at least: two-class heads are not worth a thread.
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(classes, 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* grad = dlogits ? dlogits + r * classes : nullptr;
      if (labels[r] == ignore_index) {
        losses[r] = 0.0;
        if (grad) std::fill(grad, grad + classes, 0.0f);
      } else {
        losses[r] = row_cross_entropy(logits + r * classes, classes, labels[r], grad, scale);
      }
    }
  });
  if (count == 0) return std::numeric_limits<float>::quiet_NaN();
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) total += losses[r];
  return static_cast<float>(total / static_cast<double>(count));
}

}  // namespace tformer::kernels
