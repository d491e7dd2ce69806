// Backward of layer_norm_train (LayerNorm over the last dimension of rows × dim
// floats, with the optional residual added first). With a = x + residual,
//   x̂ = (a − mean) · rstd,   g = dy · gamma   (per row, dim elements)
//   dx      = rstd · (g − mean(g) − x̂ · mean(g · x̂))   written, [rows, dim]
//   dgamma += Σ_rows dy · x̂                           accumulated, [dim]
//   dbeta  += Σ_rows dy                               accumulated, [dim]
// which is PyTorch's formula. Since a = x + residual, dx is the gradient of both
// x and residual: a post-LN block passes the same dx down its residual branch.
//
// x, residual (nullable), mean and rstd are exactly what layer_norm_train was
// given and wrote. dgamma and dbeta may be null (frozen). dx may alias dy: the
// parameter gradients are taken before dx is written. `isa` picks the copy of
// the element loops (tests run each).
#pragma once
#include <cstdint>

#include "tformer/core/cpu.h"

namespace tformer::kernels {

void layer_norm_backward(const float* dy, const float* x, const float* residual, const float* mean,
                         const float* rstd, int64_t rows, int64_t dim, const float* gamma,
                         float* dx, float* dgamma, float* dbeta, Isa isa = active_isa());

}  // namespace tformer::kernels
