#include "tformer/kernels/layer_norm.h"

#include <cmath>

#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

namespace {
// Both forwards; row statistics are stored when mean_out / rstd_out are given.
void layer_norm_rows(const float* x, const float* residual, int64_t rows, int64_t dim,
                     const float* gamma, const float* beta, float eps, float* y, float* mean_out,
                     float* rstd_out) {
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * dim;
      const float* rr = residual ? residual + r * dim : nullptr;
      float* yr = y + r * dim;
      // Two passes in double keep the variance exact enough for eps = 1e-12.
      double sum = 0.0;
      for (int64_t i = 0; i < dim; ++i) {
        float v = rr ? xr[i] + rr[i] : xr[i];
        yr[i] = v;
        sum += v;
      }
      const double mean = sum / static_cast<double>(dim);
      double sq = 0.0;
      for (int64_t i = 0; i < dim; ++i) {
        double d = yr[i] - mean;
        sq += d * d;
      }
      const float inv = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(dim) + eps));
      const float m = static_cast<float>(mean);
      for (int64_t i = 0; i < dim; ++i) yr[i] = (yr[i] - m) * inv * gamma[i] + beta[i];
      if (mean_out) mean_out[r] = m;
      if (rstd_out) rstd_out[r] = inv;
    }
  });
}
}  // namespace

void layer_norm(const float* x, const float* residual, int64_t rows, int64_t dim, const float* gamma,
                const float* beta, float eps, float* y) {
  layer_norm_rows(x, residual, rows, dim, gamma, beta, eps, y, nullptr, nullptr);
}

void layer_norm_train(const float* x, const float* residual, int64_t rows, int64_t dim,
                      const float* gamma, const float* beta, float eps, float* y, float* mean,
                      float* rstd) {
  layer_norm_rows(x, residual, rows, dim, gamma, beta, eps, y, mean, rstd);
}

}  // namespace tformer::kernels
