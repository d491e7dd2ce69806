// Linear: y = x · Wᵀ + b, weight stored [out_features, in_features] as PyTorch
// stores it; loaded as `weight` and `bias` under the module's prefix.
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/checkpoint.h"

namespace tformer::nn {

class Linear {
 public:
  Linear() = default;
  Linear(Tensor weight, Tensor bias);  // bias may be undefined
  static Linear load(const io::WeightView& vb, int64_t in_features, int64_t out_features,
                     bool with_bias = true);
  // Stacks the rows of several Linears with the same input size into one
  // (e.g. query, key, value → one [3·H, H] projection computed by one GEMM).
  static Linear concat_outputs(const Linear* parts, int count);

  // x [rows, in] → y [rows, out].
  void forward(const float* x, int64_t rows, float* y) const;

  int64_t in_features() const { return weight_.dim(1); }
  int64_t out_features() const { return weight_.dim(0); }
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  Tensor weight_, bias_;
};

}  // namespace tformer::nn
