#include "tformer/kernels/layer_norm.h"

#include <cmath>

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

namespace {
// One row: y = (v − mean) · rstd · gamma + beta with v = x (+ residual), in
// two passes (mean, then the variance of v − mean) over 16 float lanes
// whose partial sums are added in double, so the copy for each ISA
// vectorises (multiversion.h) and the variance stays accurate for
// eps = 1e-12. Row statistics go to mean_out / rstd_out when given.
TF_MULTIVERSION(void, layer_norm_row,
                (const float* x, const float* residual, int64_t dim, const float* gamma, const float* beta,
                 float eps, float* y, float* mean_out, float* rstd_out),
                {
                  const int64_t body = dim / 16 * 16;
                  Float16 acc = {};
                  if (residual) {
                    for (int64_t i = 0; i < body; i += 16) {
                      Float16 v, r;
                      load16(v, x + i);
                      load16(r, residual + i);
                      v += r;
                      store16(y + i, v);
                      acc += v;
                    }
                    for (int64_t i = body; i < dim; ++i) y[i] = x[i] + residual[i];
                  } else {
                    for (int64_t i = 0; i < body; i += 16) {
                      Float16 v;
                      load16(v, x + i);
                      store16(y + i, v);
                      acc += v;
                    }
                    for (int64_t i = body; i < dim; ++i) y[i] = x[i];
                  }
                  double sum = sum_lanes(acc);
                  for (int64_t i = body; i < dim; ++i) sum += y[i];
                  const float mean = static_cast<float>(sum / static_cast<double>(dim));
                  Float16 sq16 = {};
                  for (int64_t i = 0; i < body; i += 16) {
                    Float16 d;
                    load16(d, y + i);
                    d -= mean;
                    sq16 += d * d;
                  }
                  double sq = sum_lanes(sq16);
                  for (int64_t i = body; i < dim; ++i) sq += static_cast<double>(y[i] - mean) * (y[i] - mean);
                  const float rstd = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(dim) + eps));
                  for (int64_t i = 0; i < dim; ++i) y[i] = (y[i] - mean) * rstd * gamma[i] + beta[i];
                  if (mean_out) *mean_out = mean;
                  if (rstd_out) *rstd_out = rstd;
                })

void layer_norm_rows(const float* x, const float* residual, int64_t rows, int64_t dim,
                     const float* gamma, const float* beta, float eps, float* y, float* mean_out,
                     float* rstd_out) {
  const auto row_fn = TF_SELECT(layer_norm_row, active_isa());
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      row_fn(x + r * dim, residual ? residual + r * dim : nullptr, dim, gamma, beta, eps, y + r * dim,
             mean_out ? mean_out + r : nullptr, rstd_out ? rstd_out + r : nullptr);
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
