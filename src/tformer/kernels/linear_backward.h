// Backward of a Linear layer y[M,N] = x[M,K] · Wᵀ + b, W stored [N,K] (the
// PyTorch layout, as kernels::linear reads it):
//   dx[M,K]  = dy · W            written (or accumulated, see below)
//   dW[N,K] += dyᵀ · x           accumulated, as PyTorch accumulates .grad
//   db[N]   += Σ_rows dy         accumulated
// dy is [M,N], contiguous. dx, dweight and dbias may each be null (no input
// gradient wanted, frozen weight, no bias). Deterministic for any thread count:
// the GEMMs split only output blocks, and the bias sums go column by column.
#pragma once
#include <cstdint>

#include "tformer/kernels/gemm.h"

namespace tformer::kernels {

struct LinearBackwardArgs {
  int64_t m = 0, k = 0, n = 0;
  // Rows of x are x_stride floats apart (≥ k): BERT's pooler reads its [CLS]
  // rows in place from [B, S, H] hidden states with x_stride = S·H.
  const float* x = nullptr;
  int64_t x_stride = 0;
  const float* weight = nullptr;  // [N, K]
  const float* dy = nullptr;      // [M, N]
  // Rows of dx are dx_stride floats apart (≥ k). With accumulate_dx the input
  // gradient is added to dx (the pooler adds into the [CLS] rows of the
  // hidden-state gradient); otherwise it overwrites.
  float* dx = nullptr;
  int64_t dx_stride = 0;
  bool accumulate_dx = false;
  float* dweight = nullptr;  // [N, K]
  float* dbias = nullptr;    // [N]
  // The GEMMs' products: F32, or BF16 for mixed-precision training (see
  // GemmArgs::format); sums and gradients stay fp32.
  GemmFormat format = GemmFormat::F32;
};

void linear_backward(const LinearBackwardArgs& args);

// Contiguous rows, dx overwritten: the backward of kernels::linear.
void linear_backward(const float* x, int64_t m, int64_t k, const float* weight, int64_t n,
                     const float* dy, float* dx, float* dweight, float* dbias);

}  // namespace tformer::kernels
