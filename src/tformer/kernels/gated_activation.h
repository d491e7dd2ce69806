// The gate of a gated feed-forward block (GLU variants, Shazeer 2020; SwiGLU
// with SiLU, as Llama's MLP): for each of `rows` rows of gate_up, whose first
// n values are the gate projection and next n the up projection,
//   out[r, i] = act(gate_up[r, i]) · gate_up[r, n + i]
// out [rows, n] must not overlap gate_up.
#pragma once
#include <cstdint>

#include "tformer/kernels/activations.h"

namespace tformer::kernels {

void gated_activation(Activation act, const float* gate_up, int64_t rows, int64_t n, float* out);

}  // namespace tformer::kernels
