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
  void forward(const float* x, int64_t rows, float* y) const { forward(x, nullptr, rows, y); }
  // Training: also keeps each row's mean and rstd ([rows] each) for backward;
  // y must alias neither x nor residual.
  void forward_train(const float* x, const float* residual, int64_t rows, float* y, float* mean,
                     float* rstd) const;
  // dx [rows, dim] (the gradient of x and of residual alike) from dy and what
  // forward_train was given and kept; parameter gradients accumulate. dx may alias dy.
  void backward(const float* dy, const float* x, const float* residual, const float* mean,
                const float* rstd, int64_t rows, float* dx);
  void enable_grad() {
    enable_parameter_grad(weight_);
    enable_parameter_grad(bias_);
  }

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
