// Linear: y = x · Wᵀ + b, weight stored [out_features, in_features] as PyTorch
// stores it; loaded as `weight` and `bias` under the module's prefix.
#pragma once
#include <cstdint>
#include <initializer_list>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/nn/parameter.h"

namespace tformer::nn {

class Linear {
 public:
  Linear() = default;
  static Linear load(const io::WeightView& vb, int64_t in_features, int64_t out_features,
                     bool with_bias = true);
  // Stacks the rows of Linears with the same input size into one, so that one
  // GEMM computes all (BERT's query, key, value → one [3·H, H] projection).
  // The parts keep their names and become views into the fused weights, so
  // training and saving still see each of them.
  static Linear fuse_outputs(std::initializer_list<Linear*> parts);

  // x [rows, in] → y [rows, out].
  void forward(const float* x, int64_t rows, float* y) const;

  int64_t in_features() const { return weight_.value.dim(1); }
  int64_t out_features() const { return weight_.value.dim(0); }
  const Tensor& weight() const { return weight_.value; }
  const Tensor& bias() const { return bias_.value; }
  void parameters(ParameterList& out);

 private:
  Parameter weight_, bias_;
};

}  // namespace tformer::nn
