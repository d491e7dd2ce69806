#include "tformer/kernels/softmax.h"

#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::kernels {

namespace {
// Reductions keep 16 partial lanes, combined in a fixed order, so the loops
// vectorise without reassociating floats behind the compiler's back and the
// result is the same on every call (each instruction set may round differently).
constexpr int kLanes = 16;

TF_MULTIVERSION(void, softmax_row_impl, (float* x, int64_t dim), {
  float lane_max[kLanes];
  for (int l = 0; l < kLanes; ++l) lane_max[l] = x[0];
  const int64_t body = dim / kLanes * kLanes;
  for (int64_t i = 0; i < body; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_max[l] = x[i + l] > lane_max[l] ? x[i + l] : lane_max[l];
  float mx = lane_max[0];
  for (int l = 1; l < kLanes; ++l) mx = lane_max[l] > mx ? lane_max[l] : mx;
  for (int64_t i = body; i < dim; ++i) mx = x[i] > mx ? x[i] : mx;

  float lane_sum[kLanes] = {};
  for (int64_t i = 0; i < body; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      x[i + l] = exp_approx(x[i + l] - mx);
      lane_sum[l] += x[i + l];
    }
  float sum = 0.0f;
  for (int l = 0; l < kLanes; ++l) sum += lane_sum[l];
  for (int64_t i = body; i < dim; ++i) {
    x[i] = exp_approx(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < dim; ++i) x[i] *= inv;
})
}  // namespace

void softmax_row(float* x, int64_t dim, Isa isa) { TF_SELECT(softmax_row_impl, isa)(x, dim); }

void softmax(float* x, int64_t rows, int64_t dim, Isa isa) {
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) softmax_row(x + r * dim, dim, isa);
  });
}

}  // namespace tformer::kernels
