// AVX2 GEMM micro-kernel (gemm_kernels.h): a 6 × 16 register tile, 12 ymm
// accumulators, two B vectors and one broadcast of A per row and k.
// Compiled with -mavx2 -mfma.
#include <immintrin.h>

#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

namespace {
constexpr int kMr = 6, kNr = 16;

// Lanes [0, n) of a ymm mask (n clamped to [0, 8]).
__m256i lane_mask(int n) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), index);
}

// The tile's first R rows (R ≤ kMr): a partial tile runs only its own rows' FMAs.
template <int R>
void tile(const GemmTile& t) {
  const auto* a = static_cast<const float*>(t.a);
  const int64_t a_row = t.lda ? t.lda : 1, a_step = t.lda ? 1 : kMr;  // in place, or a packed panel
  const auto* b = static_cast<const float*>(t.b);
  float* c = t.c;
  const int64_t ldc = t.ldc;
  const __m256i m0 = lane_mask(t.cols), m1 = lane_mask(t.cols - 8);
  const __m256 start0 = t.bias ? _mm256_maskload_ps(t.bias, m0) : _mm256_setzero_ps();
  const __m256 start1 = t.bias ? _mm256_maskload_ps(t.bias + 8, m1) : _mm256_setzero_ps();
  __m256 acc[R][2];
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    acc[i][0] = t.accumulate ? _mm256_maskload_ps(c + i * ldc, m0) : start0;
    acc[i][1] = t.accumulate ? _mm256_maskload_ps(c + i * ldc + 8, m1) : start1;
  }
  TilePrefetcher prefetch(t);
  prefetch_next_c(t, R, kNr);
  for (int64_t k = 0; k < t.steps; ++k) {
    prefetch.step();
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < R; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i * a_row);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += a_step;
    b += kNr;
  }
#pragma GCC unroll 6
  for (int i = 0; i < R; ++i) {
    _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);
    _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);
  }
}

void micro_kernel(const GemmTile& t) {
  switch (t.rows) {
    case 1: return tile<1>(t);
    case 2: return tile<2>(t);
    case 3: return tile<3>(t);
    case 4: return tile<4>(t);
    case 5: return tile<5>(t);
    default: return tile<kMr>(t);
  }
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_avx2() { return {.mr = kMr, .nr = kNr, .reads_a_in_place = true, .run = micro_kernel}; }

}  // namespace tformer::kernels::detail
