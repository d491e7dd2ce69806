// RMSNorm over the last dimension, loaded as `weight` (Llama's
// input_layernorm, post_attention_layernorm and norm).
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/nn/parameter.h"

namespace tformer::nn {

class RmsNorm {
 public:
  RmsNorm() = default;
  static RmsNorm load(const io::WeightView& vb, int64_t dim, float eps);
  // y = weight · x / rms(x), row by row; y may alias x.
  void forward(const float* x, int64_t rows, float* y) const;
  int64_t dim() const { return weight_.value.dim(0); }

 private:
  Parameter weight_;
  float eps_ = 1e-6f;
};

}  // namespace tformer::nn
