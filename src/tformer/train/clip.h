// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_.
#pragma once
#include "tformer/nn/parameter.h"

namespace tformer::train {

// Returns the L2 norm of all gradients together (before clipping) and, when it
// exceeds max_norm, scales every gradient by max_norm / (norm + 1e-6).
// Parameters without a gradient are skipped, as torch skips grad=None.
// Gradients must be contiguous fp32. The sum of squares runs in double over
// fixed-size blocks added in a fixed order, so the norm is the same bits
// whatever the thread count. A non-finite norm is returned as is (torch's
// error_if_nonfinite=False): the caller decides whether to skip the step.
float clip_grad_norm(const nn::ParameterList& params, float max_norm);

// The L2 norm of all gradients, computed as clip_grad_norm computes it.
double grad_norm(const nn::ParameterList& params);

}  // namespace tformer::train
