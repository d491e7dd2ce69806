#include "tformer/nn/attention_dims.h"

namespace tformer::nn {

void AttentionScratch::reserve(int64_t rows, const AttentionDims& dims) {
  ensure_capacity(qkv, rows * dims.qkv_dim());
  ensure_capacity(context, rows * dims.q_dim());
}

Linear load_fused_qkv(const io::WeightView& vb, const char* q, const char* k, const char* v, const AttentionDims& dims,
                      bool bias) {
  Linear query = Linear::load(vb.pp(q), dims.hidden, dims.q_dim(), bias);
  Linear key = Linear::load(vb.pp(k), dims.hidden, dims.kv_dim(), bias);
  Linear value = Linear::load(vb.pp(v), dims.hidden, dims.kv_dim(), bias);
  return Linear::fuse_outputs({&query, &key, &value});
}

}  // namespace tformer::nn
