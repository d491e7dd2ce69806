// LayerNorm over the last dimension of rows × dim floats:
//   y = (x + residual − mean) / sqrt(var + eps) · gamma + beta
// `residual` may be null; when given it is added first (the post-LN transformer
// block's "Add & Norm"), so activations are read once. y may alias x.
#pragma once
#include <cstdint>

namespace tformer::kernels {

void layer_norm(const float* x, const float* residual, int64_t rows, int64_t dim, const float* gamma,
                const float* beta, float eps, float* y);

}  // namespace tformer::kernels
