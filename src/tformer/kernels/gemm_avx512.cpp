// AVX-512 GEMM micro-kernel (gemm_kernels.h): a 12 × 32 register tile, 24
// zmm accumulators, two B vectors and one broadcast of A per row and k.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma.
#include <immintrin.h>

#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = 12, kNr = 32;

__mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

// The tile's first R rows (R ≤ kMr): a partial tile, as M = 1 of decoding,
// runs only its own rows' FMAs.
template <int R>
void tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int cols, bool accumulate) {
  const __mmask16 m0 = lane_mask(cols), m1 = lane_mask(cols - 16);
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i) {
    acc[i][0] = accumulate ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : _mm512_setzero_ps();
    acc[i][1] = accumulate ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i) {
    _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);
  }
}

void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols,
                  bool accumulate) {
  switch (rows) {
    case 1: return tile<1>(kc, a, b, c, ldc, cols, accumulate);
    case 2: return tile<2>(kc, a, b, c, ldc, cols, accumulate);
    case 3: return tile<3>(kc, a, b, c, ldc, cols, accumulate);
    case 4: return tile<4>(kc, a, b, c, ldc, cols, accumulate);
    case 5: return tile<5>(kc, a, b, c, ldc, cols, accumulate);
    case 6: return tile<6>(kc, a, b, c, ldc, cols, accumulate);
    case 7: return tile<7>(kc, a, b, c, ldc, cols, accumulate);
    case 8: return tile<8>(kc, a, b, c, ldc, cols, accumulate);
    case 9: return tile<9>(kc, a, b, c, ldc, cols, accumulate);
    case 10: return tile<10>(kc, a, b, c, ldc, cols, accumulate);
    case 11: return tile<11>(kc, a, b, c, ldc, cols, accumulate);
    default: return tile<kMr>(kc, a, b, c, ldc, cols, accumulate);
  }
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_avx512() { return {kMr, kNr, micro_kernel}; }

}  // namespace tformer::kernels::detail
