// Portable GEMM micro-kernel (gemm_kernels.h) for CPUs without AVX2: a 4 × 16
// tile of scalar multiply-adds that the compiler vectorises for the baseline
// instruction set (SSE2 on x86-64: no FMA, so each step rounds twice).
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = 4, kNr = 16;

void micro_kernel(int64_t kc, const void* packed_a, const void* packed_b, float* c, int64_t ldc, int rows,
                  int cols, bool accumulate) {
  const float* a = static_cast<const float*>(packed_a);
  const float* b = static_cast<const float*>(packed_b);
  float acc[kMr][kNr] = {};
  if (accumulate)
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) acc[i][j] = c[i * ldc + j];
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * b[j];
    a += kMr;
    b += kNr;
  }
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) c[i * ldc + j] = acc[i][j];
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_generic() { return {kMr, kNr, 1, 1, false, micro_kernel}; }

}  // namespace tformer::kernels::detail
