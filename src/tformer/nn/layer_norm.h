// LayerNorm over the last dimension, loaded as `weight` and `bias` (old
// checkpoints' `gamma`/`beta` are renamed by io).
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/nn/parameter.h"

namespace tformer::nn {

class LayerNorm {
 public:
  LayerNorm() = default;
  static LayerNorm load(const io::WeightView& vb, int64_t dim, float eps);

  // y = LN(x + residual); residual may be null; y may alias x.
  void forward(const float* x, const float* residual, int64_t rows, float* y) const;

  int64_t dim() const { return weight_.value.dim(0); }
  float eps() const { return eps_; }
  void parameters(ParameterList& out) {
    out.push_back(&weight_);
    out.push_back(&bias_);
  }

 private:
  Parameter weight_, bias_;  // neither decays (Trainer's grouping)
  float eps_ = 1e-12f;
};

}  // namespace tformer::nn
