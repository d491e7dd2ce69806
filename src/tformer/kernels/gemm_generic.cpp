// Portable GEMM micro-kernel (gemm_kernels.h) for CPUs without AVX2: a 4 × 16
// tile of scalar multiply-adds that the compiler vectorises for the baseline
// instruction set (SSE2 on x86-64: no FMA, so each step rounds twice).
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = 4, kNr = 16;

void micro_kernel(const GemmTile& t) {
  const auto* a = static_cast<const float*>(t.a);
  const auto* b = static_cast<const float*>(t.b);
  const int rows = t.rows, cols = t.cols;
  float acc[kMr][kNr] = {};
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) acc[i][j] = t.accumulate ? t.c[i * t.ldc + j] : t.bias ? t.bias[j] : 0.0f;
  TilePrefetcher prefetch(t);
  for (int64_t k = 0; k < t.steps; ++k) {
    prefetch.step();
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * b[j];
    a += kMr;
    b += kNr;
  }
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) t.c[i * t.ldc + j] = acc[i][j];
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_generic() { return {.mr = kMr, .nr = kNr, .run = micro_kernel}; }

}  // namespace tformer::kernels::detail
