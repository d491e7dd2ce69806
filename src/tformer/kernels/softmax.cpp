#include "tformer/kernels/softmax.h"

#include <algorithm>
#include <cmath>

#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

void softmax_row(float* x, int64_t dim) {
  float mx = x[0];
  for (int64_t i = 1; i < dim; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < dim; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < dim; ++i) x[i] *= inv;
}

void softmax(float* x, int64_t rows, int64_t dim) {
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) softmax_row(x + r * dim, dim);
  });
}

}  // namespace tformer::kernels
