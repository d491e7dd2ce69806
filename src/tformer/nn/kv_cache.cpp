#include "tformer/nn/kv_cache.h"

#include "tformer/core/checked_size.h"

namespace tformer::nn {

void KVCache::reserve(int64_t layers, int64_t batch, int64_t capacity, int64_t kv_dim) {
  const int64_t dims[] = {layers, batch, capacity, kv_dim};
  const int64_t floats = checked_numel(dims, "KV cache");
  // Zeroed when new: attention weighs the slots it masks by exactly 0, and
  // 0 · NaN from uninitialised memory would still be NaN (a finished
  // sequence's slots stay unwritten while its batch goes on).
  if (keys_.numel() < floats) {
    keys_ = Tensor::zeros({floats});
    values_ = Tensor::zeros({floats});
  }
  layers_ = layers;
  batch_ = batch;
  capacity_ = capacity;
  kv_dim_ = kv_dim;
}

}  // namespace tformer::nn
