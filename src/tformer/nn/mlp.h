// The feed-forward blocks of transformer layers, each adding its output into
// the residual stream:
//   Mlp (GPT-2, ViT):       proj(act(fc(x)))              c_fc, c_proj (Conv1D) or two Linears
//   GatedMlp (Llama's SwiGLU): down(act(gate(x)) · up(x))  gate_proj, up_proj, down_proj
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/kernels/activations.h"
#include "tformer/nn/linear.h"

namespace tformer::nn {

class Mlp {
 public:
  Mlp() = default;
  static Mlp load_conv1d(const io::WeightView& vb, int64_t hidden, int64_t inner, kernels::Activation act);
  // Two Linears (ViT's intermediate.dense and output.dense).
  static Mlp load(const io::WeightView& fc, const io::WeightView& proj, int64_t hidden, int64_t inner,
                  kernels::Activation act);
  // x [rows, hidden]; inner [rows, inner] scratch; residual += the block's output.
  void forward(const float* x, int64_t rows, Tensor& inner, float* residual) const;
  void set_weight_format(kernels::GemmFormat format);
  int64_t weight_bytes() const { return fc_.weight_bytes() + proj_.weight_bytes(); }

 private:
  Linear fc_, proj_;
  kernels::Activation act_ = kernels::Activation::GeluTanh;
};

class GatedMlp {
 public:
  GatedMlp() = default;
  static GatedMlp load(const io::WeightView& vb, int64_t hidden, int64_t inner, kernels::Activation act, bool bias);
  // x [rows, hidden]; scratch grows to [rows, 3·inner]; residual += the block's output.
  void forward(const float* x, int64_t rows, Tensor& scratch, float* residual) const;
  void set_weight_format(kernels::GemmFormat format);
  int64_t weight_bytes() const { return gate_up_.weight_bytes() + down_.weight_bytes(); }

 private:
  Linear gate_up_, down_;  // gate_proj and up_proj fused: one GEMM
  int64_t inner_ = 0;
  kernels::Activation act_ = kernels::Activation::Silu;
};

}  // namespace tformer::nn
