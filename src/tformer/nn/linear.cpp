#include "tformer/nn/linear.h"

#include "tformer/kernels/gemm.h"

namespace tformer::nn {

Linear Linear::load(const io::WeightView& vb, int64_t in_features, int64_t out_features,
                    bool with_bias) {
  Linear l;
  l.weight_ = {vb.full_name("weight"), vb.get("weight", {out_features, in_features}), {}, true};
  if (with_bias) l.bias_ = {vb.full_name("bias"), vb.get("bias", {out_features}), {}, false};
  return l;
}

Linear Linear::fuse_outputs(std::initializer_list<Linear*> parts) {
  const Linear& first = **parts.begin();
  const int64_t in = first.in_features();
  const bool with_bias = first.bias_.value.defined();
  int64_t out = 0;
  for (const Linear* p : parts) {
    TF_CHECK(p->in_features() == in && p->bias_.value.defined() == with_bias,
             "fuse_outputs: '" << p->weight_.name << "' differs in input size or bias from '"
                               << first.weight_.name << "'");
    out += p->out_features();
  }
  Linear fused;
  fused.weight_ = {"(fused)", Tensor::empty({out, in}), {}, true};
  if (with_bias) fused.bias_ = {"(fused)", Tensor::empty({out}), {}, false};
  int64_t row = 0;
  for (Linear* p : parts) {
    const int64_t o = p->out_features();
    Tensor w = fused.weight_.value.narrow(0, row, o);
    w.copy_from(p->weight_.value);
    p->weight_.value = w;
    if (with_bias) {
      Tensor b = fused.bias_.value.narrow(0, row, o);
      b.copy_from(p->bias_.value);
      p->bias_.value = b;
    }
    row += o;
  }
  return fused;
}

void Linear::forward(const float* x, int64_t rows, float* y) const {
  kernels::linear(x, rows, in_features(), weight_.value.data<float>(),
                  bias_.value.defined() ? bias_.value.data<float>() : nullptr, out_features(), y);
}

void Linear::parameters(ParameterList& out) {
  out.push_back(&weight_);
  if (bias_.value.defined()) out.push_back(&bias_);
}

}  // namespace tformer::nn
