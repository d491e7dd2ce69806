// The pre-norm transformer encoder block (ViT's ViTLayer, ViT-MAE's
// ViTMAELayer; timm's Block):
//
//   h = h + attention(attention_norm(h))     bidirectional
//   h = h + mlp(mlp_norm(h))
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/kernels/gemm.h"
#include "tformer/nn/layer_norm.h"
#include "tformer/nn/mlp.h"
#include "tformer/nn/self_attention.h"

namespace tformer::nn {

// A forward's buffers, shared by the blocks of a model.
struct EncoderBlockScratch {
  Tensor normed, mlp;
  AttentionScratch attention;
};

struct PreNormEncoderBlock {
  LayerNorm attention_norm;
  SelfAttention attention;
  LayerNorm mlp_norm;
  Mlp mlp;

  // hidden [batch·seq, width], updated in place.
  void forward(float* hidden, int64_t batch, int64_t seq, EncoderBlockScratch& scratch) const {
    const int64_t rows = batch * seq;
    ensure_capacity(scratch.normed, rows * attention.dims().hidden);
    float* normed = scratch.normed.data<float>();
    attention_norm.forward(hidden, rows, normed);
    attention.forward(normed, batch, seq, scratch.attention, hidden);
    mlp_norm.forward(hidden, rows, normed);
    mlp.forward(normed, rows, scratch.mlp, hidden);
  }
  void set_weight_format(kernels::GemmFormat format) {
    attention.set_weight_format(format);
    mlp.set_weight_format(format);
  }
};

}  // namespace tformer::nn
