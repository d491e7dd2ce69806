// AVX-512 fp32 GEMM micro-kernel (gemm_kernels.h): the 12 × 32 tile of
// gemm_avx512_tile.h, one FMA per accumulator and k.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma.
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized inside its shuffle intrinsics (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>

#include "tformer/kernels/gemm_avx512_tile.h"
#include "tformer/kernels/gemm_avx512_transpose.h"

namespace tformer::kernels::detail {

namespace {
struct FmaStep {
  static void apply(uint32_t a_bits, __m512 b0, __m512 b1, __m512& acc0, __m512& acc1) {
    const __m512 a = _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(a_bits)));
    acc0 = _mm512_fmadd_ps(a, b0, acc0);
    acc1 = _mm512_fmadd_ps(a, b1, acc1);
  }
};

// gemm_kernels.h's pack_b_transposed for 32-column panels, 16 × 16 blocks at a time.
void pack_b_transposed(const float* b, int64_t ldb, int64_t kc, int cols, uint32_t* dst) {
  auto* d = reinterpret_cast<float*>(dst);
  for (int64_t k0 = 0; k0 < kc; k0 += 16) {
    const int kn = static_cast<int>(std::min<int64_t>(16, kc - k0));
    const __mmask16 k_mask = lane_mask(kn);
    for (int half = 0; half < 2; ++half) {
      __m512 r[16];
      for (int c = 0; c < 16; ++c) {
        const int col = half * 16 + c;
        r[c] = col < cols ? _mm512_maskz_loadu_ps(k_mask, b + col * ldb + k0) : _mm512_setzero_ps();
      }
      transpose_16x16(r);
      for (int kk = 0; kk < kn; ++kk) _mm512_store_ps(d + (k0 + kk) * kAvx512Nr + half * 16, r[kk]);
    }
  }
}
}  // namespace

GemmMicroKernel gemm_micro_kernel_avx512() {
  return {.mr = kAvx512Mr, .nr = kAvx512Nr, .reads_a_in_place = true, .run = avx512_micro_kernel<FmaStep>,
          .pack_b_transposed = pack_b_transposed};
}

}  // namespace tformer::kernels::detail
