// AVX-512 helpers for gemm_pack.cpp's bf16 packing (gemm_kernels.h).
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma; called
// only where active_isa() is AVX-512 or above.
// GCC 12's avx512fintrin.h trips -Wmaybe-uninitialized inside its shuffle intrinsics (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>

#include "tformer/kernels/gemm_avx512_tile.h"  // lane_mask
#include "tformer/kernels/gemm_avx512_transpose.h"

namespace tformer::kernels::detail {

// Blocks of 16 × 16 words through registers; a partial block's rows and
// columns are masked, the absent ones never read or written.
void transpose_words_avx512(const uint32_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint32_t* dst,
                            int64_t dst_stride) {
  const auto* s = reinterpret_cast<const float*>(src);
  auto* d = reinterpret_cast<float*>(dst);
  for (int64_t i0 = 0; i0 < rows; i0 += 16) {
    const int rn = static_cast<int>(std::min<int64_t>(16, rows - i0));
    for (int64_t j0 = 0; j0 < cols; j0 += 16) {
      const int cn = static_cast<int>(std::min<int64_t>(16, cols - j0));
      const __mmask16 col_mask = lane_mask(cn), row_mask = lane_mask(rn);
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = i < rn ? _mm512_maskz_loadu_ps(col_mask, s + (i0 + i) * src_stride + j0) : _mm512_setzero_ps();
      transpose_16x16(r);
      for (int j = 0; j < cn; ++j) _mm512_mask_storeu_ps(d + (j0 + j) * dst_stride + i0, row_mask, r[j]);
    }
  }
}

}  // namespace tformer::kernels::detail
