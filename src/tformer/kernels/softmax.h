// Softmax over the last dimension of rows × dim floats, in place, max-shifted
// for stability.
#pragma once
#include <cstdint>

namespace tformer::kernels {

void softmax_row(float* x, int64_t dim);
void softmax(float* x, int64_t rows, int64_t dim);

}  // namespace tformer::kernels
