#include "tformer/nn/mlp.h"

#include "tformer/kernels/gated_activation.h"

namespace tformer::nn {

Mlp Mlp::load_conv1d(const io::WeightView& vb, int64_t hidden, int64_t inner, kernels::Activation act) {
  Mlp m;
  m.fc_ = Linear::load_conv1d(vb.pp("c_fc"), hidden, inner);
  m.proj_ = Linear::load_conv1d(vb.pp("c_proj"), inner, hidden);
  m.act_ = act;
  return m;
}

Mlp Mlp::load(const io::WeightView& fc, const io::WeightView& proj, int64_t hidden, int64_t inner,
              kernels::Activation act) {
  Mlp m;
  m.fc_ = Linear::load(fc, hidden, inner);
  m.proj_ = Linear::load(proj, inner, hidden);
  m.act_ = act;
  return m;
}

void Mlp::forward(const float* x, int64_t rows, Tensor& inner, float* residual) const {
  ensure_capacity(inner, rows * fc_.out_features());
  fc_.forward(x, rows, inner.data<float>(), act_);
  proj_.forward_add(inner.data<float>(), rows, residual);
}

void Mlp::set_weight_format(kernels::GemmFormat format) {
  fc_.set_weight_format(format);
  proj_.set_weight_format(format);
}

GatedMlp GatedMlp::load(const io::WeightView& vb, int64_t hidden, int64_t inner, kernels::Activation act,
                        bool bias) {
  GatedMlp m;
  Linear gate = Linear::load(vb.pp("gate_proj"), hidden, inner, bias);
  Linear up = Linear::load(vb.pp("up_proj"), hidden, inner, bias);
  m.gate_up_ = Linear::fuse_outputs({&gate, &up});
  m.down_ = Linear::load(vb.pp("down_proj"), inner, hidden, bias);
  m.inner_ = inner;
  m.act_ = act;
  return m;
}

void GatedMlp::forward(const float* x, int64_t rows, Tensor& scratch, float* residual) const {
  ensure_capacity(scratch, rows * 3 * inner_);
  float* gate_up = scratch.data<float>();
  float* gated = gate_up + rows * 2 * inner_;
  gate_up_.forward(x, rows, gate_up);
  kernels::gated_activation(act_, gate_up, rows, inner_, gated);
  down_.forward_add(gated, rows, residual);
}

void GatedMlp::set_weight_format(kernels::GemmFormat format) {
  gate_up_.set_weight_format(format);
  down_.set_weight_format(format);
}

}  // namespace tformer::nn
