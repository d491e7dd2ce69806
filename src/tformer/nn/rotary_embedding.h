// Rotary position embeddings (kernels/rotary.h) with their cos/sin tables,
// computed once for every position the model has, in fp32 as transformers'
// LlamaRotaryEmbedding computes them: inv_freq[i] = θ^(−2i/D), angle =
// position · inv_freq[i].
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/kernels/rotary.h"

namespace tformer::nn {

class RotaryEmbedding {
 public:
  RotaryEmbedding() = default;
  RotaryEmbedding(int64_t head_dim, int64_t max_positions, double theta);
  // Rotates `heads` head vectors (head_dim floats, consecutive) in each of
  // `rows` rows (row_stride floats apart), row r at positions[r].
  void apply(float* x, int64_t rows, int64_t row_stride, int64_t heads, const int64_t* positions) const;

 private:
  Tensor cos_, sin_;
  kernels::RotaryTables tables_;
};

}  // namespace tformer::nn
