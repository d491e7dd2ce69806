#include "tformer/nn/layer_norm.h"

#include "tformer/kernels/layer_norm.h"

namespace tformer::nn {

LayerNorm LayerNorm::load(const io::WeightView& vb, int64_t dim, float eps) {
  LayerNorm ln;
  ln.weight_ = {vb.full_name("weight"), vb.get("weight", {dim}), {}, false};
  ln.bias_ = {vb.full_name("bias"), vb.get("bias", {dim}), {}, false};
  ln.eps_ = eps;
  return ln;
}

void LayerNorm::forward(const float* x, const float* residual, int64_t rows, float* y) const {
  kernels::layer_norm(x, residual, rows, dim(), weight_.value.data<float>(), bias_.value.data<float>(), eps_, y);
}

}  // namespace tformer::nn
