#include "tformer/kernels/layer_norm_backward.h"

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/column_reduce.h"

namespace tformer::kernels {

namespace {
// x̂[r, i], recomputed with the forward's float arithmetic.
struct Normalized {
  const float *x, *residual, *mean, *rstd;
  int64_t dim;
  float operator()(int64_t r, int64_t i) const {
    const int64_t at = r * dim + i;
    const float a = residual ? x[at] + residual[at] : x[at];
    return (a - mean[r]) * rstd[r];
  }
};
}  // namespace

void layer_norm_backward(const float* dy, const float* x, const float* residual, const float* mean,
                         const float* rstd, int64_t rows, int64_t dim, const float* gamma,
                         float* dx, float* dgamma, float* dbeta) {
  const Normalized xhat{x, residual, mean, rstd, dim};
  if (dgamma)
    add_column_sums(rows, dim, dgamma, [&](int64_t r, int64_t i) { return dy[r * dim + i] * xhat(r, i); });
  if (dbeta) add_column_sums(rows, dim, dbeta, [&](int64_t r, int64_t i) { return dy[r * dim + i]; });

  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* dyr = dy + r * dim;
      double sum_g = 0.0, sum_gx = 0.0;
      for (int64_t i = 0; i < dim; ++i) {
        const float g = dyr[i] * gamma[i];
        sum_g += g;
        sum_gx += static_cast<double>(g) * xhat(r, i);
      }
      const float mean_g = static_cast<float>(sum_g / static_cast<double>(dim));
      const float mean_gx = static_cast<float>(sum_gx / static_cast<double>(dim));
      float* dxr = dx + r * dim;
      for (int64_t i = 0; i < dim; ++i)
        dxr[i] = rstd[r] * (dyr[i] * gamma[i] - mean_g - xhat(r, i) * mean_gx);
    }
  });
}

}  // namespace tformer::kernels
