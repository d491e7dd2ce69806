#include "tformer/nn/layer_norm.h"

#include "tformer/kernels/layer_norm.h"
#include "tformer/kernels/layer_norm_backward.h"

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

void LayerNorm::forward_train(const float* x, const float* residual, int64_t rows, float* y,
                              float* mean, float* rstd) const {
  kernels::layer_norm_train(x, residual, rows, dim(), weight_.value.data<float>(),
                            bias_.value.data<float>(), eps_, y, mean, rstd);
}

void LayerNorm::backward(const float* dy, const float* x, const float* residual, const float* mean,
                         const float* rstd, int64_t rows, float* dx) {
  kernels::layer_norm_backward(dy, x, residual, mean, rstd, rows, dim(), weight_.value.data<float>(), dx,
                               weight_.grad.defined() ? weight_.grad.data<float>() : nullptr,
                               bias_.grad.defined() ? bias_.grad.data<float>() : nullptr);
}

}  // namespace tformer::nn
