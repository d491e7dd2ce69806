#include "tformer/nn/rms_norm.h"

#include "tformer/kernels/rms_norm.h"

namespace tformer::nn {

RmsNorm RmsNorm::load(const io::WeightView& vb, int64_t dim, float eps) {
  RmsNorm n;
  n.weight_ = {vb.full_name("weight"), vb.get("weight", {dim}), {}, false};
  n.eps_ = eps;
  return n;
}

void RmsNorm::forward(const float* x, int64_t rows, float* y) const {
  kernels::rms_norm(x, rows, dim(), weight_.value.data<float>(), eps_, y);
}

}  // namespace tformer::nn
