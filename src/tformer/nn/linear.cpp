#include "tformer/nn/linear.h"

#include <cstring>

#include "tformer/kernels/gemm.h"

namespace tformer::nn {

Linear::Linear(Tensor weight, Tensor bias) : weight_(std::move(weight)), bias_(std::move(bias)) {}

Linear Linear::load(const io::WeightView& vb, int64_t in_features, int64_t out_features,
                    bool with_bias) {
  Tensor w = vb.get("weight", {out_features, in_features});
  Tensor b = with_bias ? vb.get("bias", {out_features}) : Tensor();
  return Linear(std::move(w), std::move(b));
}

Linear Linear::concat_outputs(const Linear* parts, int count) {
  int64_t in = parts[0].in_features(), out = 0;
  bool with_bias = parts[0].bias_.defined();
  for (int i = 0; i < count; ++i) {
    TF_CHECK(parts[i].in_features() == in, "concat_outputs: input sizes differ");
    out += parts[i].out_features();
  }
  Tensor w = Tensor::empty({out, in});
  Tensor b = with_bias ? Tensor::empty({out}) : Tensor();
  int64_t row = 0;
  for (int i = 0; i < count; ++i) {
    const int64_t o = parts[i].out_features();
    std::memcpy(w.data<float>() + row * in, parts[i].weight_.data<float>(), o * in * sizeof(float));
    if (with_bias) std::memcpy(b.data<float>() + row, parts[i].bias_.data<float>(), o * sizeof(float));
    row += o;
  }
  return Linear(std::move(w), std::move(b));
}

void Linear::forward(const float* x, int64_t rows, float* y) const {
  kernels::linear(x, rows, in_features(), weight_.data<float>(),
                  bias_.defined() ? bias_.data<float>() : nullptr, out_features(), y);
}

}  // namespace tformer::nn
