// Rotary position embedding (Su et al., 2021) in Hugging Face's layout
// (rotate_half): within each head vector of size D, element i pairs with
// element i + D/2 and the pair turns by the angle position · inv_freq[i]:
//   x'[i]       = x[i] · cos − x[i + D/2] · sin
//   x'[i + D/2] = x[i + D/2] · cos + x[i] · sin
// (llama2.c's files pair 2i with 2i + 1 instead: their importer permutes the
// projection rows into this layout, as transformers' converter does.)
//
// Shapes: `rows` token rows, row r starting at x + r·row_stride, each holding
// `heads` head vectors of D floats, head_stride apart; row r is at
// positions[r]. cos/sin tables [max_positions, D/2].
#pragma once
#include <cstdint>

namespace tformer::kernels {

struct RotaryTables {
  const float* cos = nullptr;
  const float* sin = nullptr;
  int64_t max_positions = 0, head_dim = 0;
};

void apply_rotary(float* x, int64_t rows, int64_t row_stride, int64_t heads, int64_t head_stride,
                  const int64_t* positions, const RotaryTables& tables);

}  // namespace tformer::kernels
