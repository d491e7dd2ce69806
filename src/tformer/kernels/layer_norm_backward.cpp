#include "tformer/kernels/layer_norm_backward.h"

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/column_reduce.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

namespace {
// x̂ = (a − mean) · rstd with a = x (+ residual), the forward's float arithmetic.
inline float normalized(const float* x, const float* residual, int64_t at, float mean, float rstd) {
  const float a = residual ? x[at] + residual[at] : x[at];
  return (a - mean) * rstd;
}

// One column block of dgamma += Σ_rows dy · x̂ (add_block_column_sums),
// once per ISA so that the block's sums stay in vector registers.
TF_MULTIVERSION(void, dgamma_block_sums,
                (const float* dy, const float* x, const float* residual, const float* mean, const float* rstd,
                 int64_t rows, int64_t dim, int64_t c0, int64_t c1, float* dgamma),
                {
                  add_block_column_sums(rows, c0, c1, dgamma, [&](int64_t r, int64_t c) {
                    return dy[r * dim + c] * normalized(x, residual, r * dim + c, mean[r], rstd[r]);
                  });
                })

// dx for one row. The row's two sums are kept in 8 double lanes each, so
// that they vectorise instead of waiting on one add chain per element.
TF_MULTIVERSION(void, layer_norm_backward_row,
                (const float* dy, const float* x, const float* residual, float mean, float rstd,
                 const float* gamma, int64_t dim, float* dx),
                {
                  constexpr int kLanes = 8;
                  double sum_g[kLanes] = {}, sum_gx[kLanes] = {};
                  auto add = [&](int64_t i, int lane) {
                    const float g = dy[i] * gamma[i];
                    sum_g[lane] += g;
                    sum_gx[lane] += static_cast<double>(g) * normalized(x, residual, i, mean, rstd);
                  };
                  for_each_in_lanes<kLanes>(dim, add);
                  double total_g = 0.0, total_gx = 0.0;
                  for (int j = 0; j < kLanes; ++j) total_g += sum_g[j], total_gx += sum_gx[j];
                  const float mean_g = static_cast<float>(total_g / static_cast<double>(dim));
                  const float mean_gx = static_cast<float>(total_gx / static_cast<double>(dim));
                  for (int64_t i = 0; i < dim; ++i)
                    dx[i] = rstd * (dy[i] * gamma[i] - mean_g - normalized(x, residual, i, mean, rstd) * mean_gx);
                })
}  // namespace

void layer_norm_backward(const float* dy, const float* x, const float* residual, const float* mean,
                         const float* rstd, int64_t rows, int64_t dim, const float* gamma,
                         float* dx, float* dgamma, float* dbeta, Isa isa) {
  if (dgamma) {
    const auto block_sums = TF_SELECT(dgamma_block_sums, isa);
    parallel_for_column_blocks(dim, [&](int64_t c0, int64_t c1) {
      block_sums(dy, x, residual, mean, rstd, rows, dim, c0, c1, dgamma);
    });
  }
  if (dbeta) add_column_sums(dy, dim, rows, dim, dbeta, isa);
  const auto row_backward = TF_SELECT(layer_norm_backward_row, isa);
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t at = r * dim;
      row_backward(dy + at, x + at, residual ? residual + at : nullptr, mean[r], rstd[r], gamma, dim, dx + at);
    }
  });
}

}  // namespace tformer::kernels
