// The keys and values a decoder has computed, kept so that each new token
// attends to the past without recomputing it (a KV cache), and the shape of
// one decoding step over a batch of sequences.
//
// Layout: [layers][batch][capacity][kv_dim] for keys and for values, one
// slot per position; sequence b's tokens occupy slots [0, length_b). The
// buffers are allocated by reserve() before generation starts and never
// during it.
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"

namespace tformer::nn {

class KVCache {
 public:
  // Room for `batch` sequences of `capacity` positions; grows only, so a
  // second generation of the same size allocates nothing.
  void reserve(int64_t layers, int64_t batch, int64_t capacity, int64_t kv_dim);
  int64_t layers() const { return layers_; }
  int64_t batch() const { return batch_; }
  int64_t capacity() const { return capacity_; }
  int64_t kv_dim() const { return kv_dim_; }
  // Sequence b's first slot in layer l.
  float* keys(int64_t layer, int64_t b) const { return slot(keys_, layer, b); }
  float* values(int64_t layer, int64_t b) const { return slot(values_, layer, b); }
  int64_t sequence_stride() const { return capacity_ * kv_dim_; }  // floats from one sequence to the next

 private:
  float* slot(const Tensor& t, int64_t layer, int64_t b) const {
    return t.data<float>() + (layer * batch_ + b) * sequence_stride();
  }
  Tensor keys_, values_;
  int64_t layers_ = 0, batch_ = 0, capacity_ = 0, kv_dim_ = 0;
};

// One forward step of a batch: `tokens` new tokens for each of `batch`
// sequences (a prompt, right-padded to the longest, or one generated token),
// sequence b's new tokens going into cache slots start[b], start[b] + 1, ...
// (which are also their positions). A step of several tokens must start all
// sequences at the same slot (a prefill); single-token steps may start each
// where its sequence has got to.
struct DecodeStep {
  int64_t batch = 0, tokens = 0;
  const int64_t* start = nullptr;      // [batch]
  const int64_t* positions = nullptr;  // [batch · tokens]: start[b] + t
  // [batch, key_mask_stride]: 1 where a slot holds a key the step may
  // attend to (a real token; padding and slots not yet written are 0).
  const float* key_mask = nullptr;
  int64_t key_mask_stride = 0;
  int64_t kv_len = 0;  // slots attention reads: max over b of start[b] + tokens
  int64_t rows() const { return batch * tokens; }
};

}  // namespace tformer::nn
