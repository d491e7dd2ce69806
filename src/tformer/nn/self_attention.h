// Bidirectional multi-head self-attention, as encoders use it (ViT's and
// ViT-MAE's ViTAttention; BertSelfAttention without a padding mask):
//
//   x ─▶ q, k, v projections (one GEMM) ─▶ softmax(q·kᵀ/√d) · v per head
//     ─▶ output projection, added into the residual stream
//
// Every token attends to every token of its own sequence; sequences of a
// batch share one length (images resized alike), so there is no mask.
#pragma once
#include <cstdint>

#include "tformer/io/weight_source.h"
#include "tformer/kernels/gemm.h"
#include "tformer/nn/attention_dims.h"
#include "tformer/nn/linear.h"

namespace tformer::nn {

class SelfAttention {
 public:
  SelfAttention() = default;
  // Hugging Face's layout: query, key and value under `projections`, the
  // output projection at `output` (ViT: attention.attention / attention.output.dense).
  static SelfAttention load(const io::WeightView& projections, const io::WeightView& output,
                            const AttentionDims& dims, bool qkv_bias);

  // x [batch·seq, hidden] (normalised input); residual [batch·seq, hidden]
  // += the attention's output.
  void forward(const float* x, int64_t batch, int64_t seq, AttentionScratch& scratch, float* residual) const;
  void set_weight_format(kernels::GemmFormat format);
  const AttentionDims& dims() const { return dims_; }

 private:
  AttentionDims dims_;
  Linear qkv_, output_;
};

}  // namespace tformer::nn
