#include "tformer/nn/attention_dims.h"

namespace tformer::nn {

void AttentionScratch::reserve(int64_t rows, const AttentionDims& dims) {
  ensure_capacity(qkv, rows * dims.qkv_dim());
  ensure_capacity(context, rows * dims.q_dim());
}

}  // namespace tformer::nn
