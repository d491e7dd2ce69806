// AVX512-BF16 GEMM micro-kernel (gemm_kernels.h): the 12 × 32 tile of
// gemm_avx512_tile.h over bf16 pairs. Each packed word holds two bf16 values
// of consecutive k; vdpbf16ps multiplies an A pair (broadcast) by the B pairs
// of 16 columns and adds both products to the fp32 accumulators, so a step
// covers two values of k at the instruction cost of one fp32 FMA.
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mfma.
#include "tformer/kernels/gemm_avx512_tile.h"

namespace tformer::kernels::detail {

namespace {
struct Bf16PairStep {
  static void apply(uint32_t a_pair, __m512 b0, __m512 b1, __m512& acc0, __m512& acc1) {
    const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(a_pair));
    acc0 = _mm512_dpbf16_ps(acc0, a, (__m512bh)b0);
    acc1 = _mm512_dpbf16_ps(acc1, a, (__m512bh)b1);
  }
};
}  // namespace

GemmMicroKernel gemm_micro_kernel_avx512_bf16() {
  return {.mr = kAvx512Mr, .nr = kAvx512Nr, .k_per_step = 2, .run = avx512_micro_kernel<Bf16PairStep>};
}

}  // namespace tformer::kernels::detail
