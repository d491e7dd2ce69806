// AVX-512 fp32 GEMM micro-kernel (gemm_kernels.h): the 12 × 32 tile of
// gemm_avx512_tile.h, one FMA per accumulator and k.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma.
#include "tformer/kernels/gemm_avx512_tile.h"

namespace tformer::kernels::detail {

namespace {
struct FmaStep {
  static void apply(uint32_t a_bits, __m512 b0, __m512 b1, __m512& acc0, __m512& acc1) {
    const __m512 a = _mm512_castsi512_ps(_mm512_set1_epi32(static_cast<int>(a_bits)));
    acc0 = _mm512_fmadd_ps(a, b0, acc0);
    acc1 = _mm512_fmadd_ps(a, b1, acc1);
  }
};
}  // namespace

GemmMicroKernel gemm_micro_kernel_avx512() {
  return {.mr = kAvx512Mr, .nr = kAvx512Nr, .reads_a_in_place = true, .run = avx512_micro_kernel<FmaStep>};
}

}  // namespace tformer::kernels::detail
