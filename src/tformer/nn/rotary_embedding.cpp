#include "tformer/nn/rotary_embedding.h"

#include <cmath>

#include "tformer/core/error.h"

namespace tformer::nn {

RotaryEmbedding::RotaryEmbedding(int64_t head_dim, int64_t max_positions, double theta) {
  TF_CHECK(head_dim > 0 && head_dim % 2 == 0, "rotary embedding: head size " << head_dim << " must be even");
  const int64_t half = head_dim / 2;
  cos_ = Tensor::empty({max_positions, half});
  sin_ = Tensor::empty({max_positions, half});
  float* c = cos_.data<float>();
  float* s = sin_.data<float>();
  for (int64_t i = 0; i < half; ++i) {
    // float32 throughout, as torch computes the frequencies, their products
    // with the positions and the cos/sin, so the angles round as theirs do.
    const float inv_freq =
        1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / static_cast<float>(head_dim));
    for (int64_t p = 0; p < max_positions; ++p) {
      const float angle = static_cast<float>(p) * inv_freq;
      c[p * half + i] = std::cos(angle);
      s[p * half + i] = std::sin(angle);
    }
  }
  tables_ = {c, s, max_positions, head_dim};
}

void RotaryEmbedding::apply(float* x, int64_t rows, int64_t row_stride, int64_t heads,
                            const int64_t* positions) const {
  kernels::apply_rotary(x, rows, row_stride, heads, tables_.head_dim, positions, tables_);
}

}  // namespace tformer::nn
