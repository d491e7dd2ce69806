// Dropout over n floats with drop probability p ∈ [0, 1]:
//   mask[i] = 1 if element i is kept (probability 1 − p), else 0
//   y[i]    = x[i] / (1 − p) where kept, else 0
//   dx[i]   = dy[i] / (1 − p) where kept, else 0       (dropout_backward)
// p = 0 keeps everything and y = x exactly; p = 1 drops everything.
//
// The keep decision for element i is a pure function of (seed, offset + i): a
// SplitMix64 hash of the seed and the element's counter, compared with p·2³².
// So the mask does not depend on the thread count, a training step can give
// each dropout site its own offset (or seed) and replay it, and nothing global
// is mutated. It is not PyTorch's random stream: masks differ from torch's for
// the same seed, only their distribution matches.
#pragma once
#include <cstdint>

#include "tformer/core/cpu.h"

namespace tformer::kernels {

// y may alias x; mask may be null (the decisions are then not kept). isa:
// which compiled copy runs (multiversion.h); all give the same bits.
void dropout(const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
             uint64_t offset, Isa isa = active_isa());
// dx may alias dy.
void dropout_backward(const float* dy, const uint8_t* mask, float* dx, int64_t n, float p, Isa isa = active_isa());

}  // namespace tformer::kernels
