#include "tformer/kernels/rotary.h"

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

void apply_rotary(float* x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride,
                  const int64_t* positions, const RotaryTables& t) {
  const int64_t half = t.head_dim / 2;
  for (int64_t r = 0; r < rows; ++r)
    TF_CHECK(positions[r] >= 0 && positions[r] < t.max_positions,
             "rotary embedding: position " << positions[r] << " is outside the " << t.max_positions
                                           << " positions of the model");
  parallel_for(rows, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* cos = t.cos + positions[r] * half;
      const float* sin = t.sin + positions[r] * half;
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + r * row_stride + h * head_stride;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], b = v[i + half];
          v[i] = a * cos[i] - b * sin[i];
          v[i + half] = b * cos[i] + a * sin[i];
        }
      }
    }
  });
}

}  // namespace tformer::kernels
