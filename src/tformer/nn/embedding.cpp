#include "tformer/nn/embedding.h"

#include "tformer/kernels/embedding_backward.h"

namespace tformer::nn {

Embedding Embedding::load(const io::WeightView& vb, int64_t num_embeddings, int64_t dim,
                          std::string what) {
  Embedding e;
  e.weight_ = {vb.full_name("weight"), vb.get("weight", {num_embeddings, dim}), {}, true};
  e.what_ = std::move(what);
  return e;
}

void Embedding::lookup(const int32_t* ids, int64_t n, float* out, bool accumulate) const {
  const int64_t d = dim(), rows = num_embeddings();
  for (int64_t i = 0; i < n; ++i) {
    TF_CHECK(ids[i] >= 0 && ids[i] < rows,
             what_ << " " << ids[i] << " is outside the table of " << rows << " entries");
    const float* src = row(ids[i]);
    float* dst = out + i * d;
    if (accumulate) {
      for (int64_t j = 0; j < d; ++j) dst[j] += src[j];
    } else {
      for (int64_t j = 0; j < d; ++j) dst[j] = src[j];
    }
  }
}

void Embedding::backward(const int32_t* ids, int64_t n, const float* dy) {
  if (!weight_.grad.defined()) return;  // frozen
  kernels::embedding_backward(ids, n, dy, dim(), weight_.grad.data<float>(), num_embeddings());
}

}  // namespace tformer::nn
