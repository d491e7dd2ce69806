// Softmax over the last dimension of rows × dim floats, in place, max-shifted
// for stability.
#pragma once
#include <cstdint>

#include "tformer/core/cpu.h"

namespace tformer::kernels {

// isa: which compiled copy runs (multiversion.h); tests pass each in turn.
void softmax_row(float* x, int64_t dim, Isa isa = active_isa());
void softmax(float* x, int64_t rows, int64_t dim, Isa isa = active_isa());

}  // namespace tformer::kernels
