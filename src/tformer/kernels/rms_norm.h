// RMSNorm (Zhang & Sennrich, 2019) over the last dimension of rows × dim floats,
// as Hugging Face's LlamaRMSNorm computes it in fp32:
//   y = weight · (x · 1/sqrt(mean(x²) + eps))
// y may alias x.
#pragma once
#include <cstdint>

namespace tformer::kernels {

void rms_norm(const float* x, int64_t rows, int64_t dim, const float* weight, float eps, float* y);

}  // namespace tformer::kernels
