#include "tformer/kernels/layer_norm.h"

#include <cmath>

#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

void layer_norm(const float* x, const float* residual, int64_t rows, int64_t dim, const float* gamma,
                const float* beta, float eps, float* y) {
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
    }
  });
}

}  // namespace tformer::kernels
