// Backward of the element-wise activations (activations.h), over n floats:
//   dx[i] = dy[i] · f'(x[i])
// from the pre-activation input x, which the training forward must keep (the
// inference forward activates in place). Derivatives, as PyTorch takes them:
//   gelu       Φ(x) + x·φ(x)                       (erf form; φ the normal pdf)
//   gelu_tanh  ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²),
//              t = tanh(√(2/π)(x + 0.044715x³))
//   relu       1 for x > 0, else 0 (0 at x = 0, as torch)
//   tanh       1 − tanh(x)²
//   silu       s(1 + x(1 − s)), s = sigmoid(x)
// dx may alias dy or x.
#pragma once
#include <cstdint>

#include "tformer/kernels/activations.h"

namespace tformer::kernels {

// isa: which compiled copy runs (multiversion.h); tests pass each in turn.
void activation_backward(Activation act, const float* x, const float* dy, float* dx, int64_t n,
                         Isa isa = active_isa());

// tanh's derivative from its output y = tanh(x): dx = dy · (1 − y²). For
// callers that keep only the output (BERT's pooler activates in place).
void tanh_backward_from_output(const float* y, const float* dy, float* dx, int64_t n, Isa isa = active_isa());

}  // namespace tformer::kernels
