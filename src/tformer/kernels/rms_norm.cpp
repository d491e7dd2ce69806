#include "tformer/kernels/rms_norm.h"

#include <cmath>

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

namespace {
// One row: the sum of squares over 16 float lanes added in double (so each
// ISA's copy vectorises and the mean stays accurate), then one scaling pass.
TF_MULTIVERSION(void, rms_norm_row, (const float* x, int64_t dim, const float* weight, float eps, float* y), {
  const int64_t body = dim / 16 * 16;
  Float16 acc = {};
  for (int64_t i = 0; i < body; i += 16) {
    Float16 v;
    load16(v, x + i);
    acc += v * v;
  }
  double sum = sum_lanes(acc);
  for (int64_t i = body; i < dim; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float rstd = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(dim) + eps));
  for (int64_t i = 0; i < dim; ++i) y[i] = weight[i] * (x[i] * rstd);
})
}  // namespace

void rms_norm(const float* x, int64_t rows, int64_t dim, const float* weight, float eps, float* y) {
  const auto row_fn = TF_SELECT(rms_norm_row, active_isa());
  // A decode step normalises one row per sequence: fewer rows than this
  // are not worth waking a thread for.
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) row_fn(x + r * dim, dim, weight, eps, y + r * dim);
  });
}

}  // namespace tformer::kernels
