// Linear: y = x · Wᵀ + b, weight stored [out_features, in_features] as PyTorch
// stores it; loaded as `weight` and `bias` under the module's prefix.
//
// For inference the weight is also kept packed for the GEMM micro-kernel
// (kernels::PackedB, made once at load), so a forward packs only its input.
// Training changes the weight every step: enable_grad drops the packed copy
// and forward then packs as it goes (the results are the same bits).
#pragma once
#include <cstdint>
#include <initializer_list>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/kernels/gemm.h"
#include "tformer/kernels/linear_backward.h"
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
  // GPT-2's Conv1D: the same map with its weight stored [in_features,
  // out_features]; transposed once at load into a Linear's layout.
  static Linear load_conv1d(const io::WeightView& vb, int64_t in_features, int64_t out_features);
  // A weight stored with more dimensions, its first the outputs (a Conv2d's
  // [out, C, kh, kw], applied to flattened patches as ViT's patch
  // embedding), used as [out, the rest flattened]; with a bias.
  static Linear load_flattened(const io::WeightView& vb, const Shape& stored);

  // x [rows, in] → y [rows, out], optionally through an activation (fused
  // into the GEMM: each output tile is activated while in cache).
  void forward(const float* x, int64_t rows, float* y,
               std::optional<kernels::Activation> activation = std::nullopt) const;
  // y += x · Wᵀ + b: the output added into y (a residual stream) by the GEMM
  // itself, with no separate pass.
  void forward_add(const float* x, int64_t rows, float* y) const;
  // Given the forward's x and dy [rows, out]: dx [rows, in] written (skipped
  // when null), weight and bias gradients accumulated when enabled.
  void backward(const float* x, int64_t rows, const float* dy, float* dx);
  // The same with rows of x and dx `x_stride` / `dx_stride` floats apart, dx
  // accumulated rather than written (BERT's pooler reads and feeds back the
  // [CLS] rows of [B, S, H] hidden states in place).
  void backward_strided(const float* x, int64_t x_stride, int64_t rows, const float* dy, float* dx,
                        int64_t dx_stride);

  // The GEMMs compute in `format` (kernels/gemm.h). For inference the weight
  // is repacked in it (BF16: bf16 weights; INT8: s8 weights per channel).
  // In training (after enable_grad) the fp32 weight stays the one that
  // learns, and BF16 rounds it and the activations at each forward and
  // backward GEMM, as PyTorch's autocast does; INT8 is inference only.
  void set_weight_format(kernels::GemmFormat format);
  // Allocates zeroed gradients (training).
  void enable_grad();
  // Makes this part's gradients views of rows [row, row + out) of `fused`'s
  // (the inverse of fuse_outputs, for gradients).
  void share_grad_rows(const Linear& fused, int64_t row);

  int64_t in_features() const { return weight_.value.dim(1); }
  int64_t out_features() const { return weight_.value.dim(0); }
  const Tensor& weight() const { return weight_.value; }
  const Tensor& bias() const { return bias_.value; }
  // Bytes of weights one forward reads in the current format (a decoder
  // reads them all for every token: the bandwidth bound of decoding).
  int64_t weight_bytes() const;
  void parameters(ParameterList& out);

 private:
  void pack(kernels::GemmFormat format = kernels::GemmFormat::F32);
  kernels::LinearBackwardArgs backward_args(const float* x, int64_t x_stride, int64_t rows, const float* dy,
                                            float* dx, int64_t dx_stride);

  Parameter weight_, bias_;
  kernels::PackedB packed_;  // empty while training
  kernels::GemmFormat format_ = kernels::GemmFormat::F32;
};

}  // namespace tformer::nn
