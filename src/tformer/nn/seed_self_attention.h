// The seed design's multi-head SelfAttention, reproduced exactly (see
// ../shared/fixtures/seed-attention/). It differs from BERT's attention:
//   - each head's slice of values / keys / query is projected by ONE shared
//     head_dim × head_dim matrix (`values.weight`, `keys.weight`,
//     `queries.weight`, no bias) instead of a full embed × embed projection;
//   - masked scores are filled with -1e20 *before* scaling;
//   - scores are scaled by 1/√embed_size, not 1/√head_dim;
//   - `fc_out` (embed × embed, with bias) mixes the concatenated heads.
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/nn/linear.h"

namespace tformer::nn {

class SeedSelfAttention {
 public:
  static SeedSelfAttention load(const io::WeightView& vb, int64_t embed_size, int64_t heads);

  // values, keys [N, Lk, E]; query [N, Lq, E]; mask undefined or broadcastable
  // to [N, heads, Lq, Lk] (1 = attend, 0 = masked). Returns [N, Lq, E].
  Tensor forward(const Tensor& values, const Tensor& keys, const Tensor& query,
                 const Tensor& mask) const;

  // The format the four projections compute in (fp32 by default; bf16 or
  // int8 as for BERT's Linear layers). The attention itself stays fp32.
  void set_weight_format(kernels::GemmFormat format);

  int64_t embed_size() const { return embed_size_; }
  int64_t heads() const { return heads_; }

 private:
  int64_t embed_size_ = 0, heads_ = 0, head_dim_ = 0;
  Linear values_, keys_, queries_, fc_out_;
};

}  // namespace tformer::nn
