// LayerNorm over the last dimension of rows × dim floats:
//   y = (x + residual − mean) / sqrt(var + eps) · gamma + beta
// `residual` may be null; when given it is added first (the post-LN transformer
// block's "Add & Norm"), so activations are read once. y may alias x.
#pragma once
#include <cstdint>

namespace tformer::kernels {

void layer_norm(const float* x, const float* residual, int64_t rows, int64_t dim, const float* gamma,
                const float* beta, float eps, float* y);

// The training forward: the same y (bit for bit), and also each row's mean and
// rstd = 1 / sqrt(var + eps) ([rows] floats each) for layer_norm_backward.
// Backward re-reads x and residual, so here y must alias neither.
void layer_norm_train(const float* x, const float* residual, int64_t rows, int64_t dim,
                      const float* gamma, const float* beta, float eps, float* y, float* mean,
                      float* rstd);

}  // namespace tformer::kernels
