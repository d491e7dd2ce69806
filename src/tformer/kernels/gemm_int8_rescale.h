// The rescaling shared by the int8 micro-kernels (gemm_int8_avx512vnni.cpp,
// gemm_int8_amx.cpp): one row of a 32-column tile's exact int32 sums to fp32,
//
//   C[r][c] (+)= row_scale[r] · col_scale[c] · (acc[r][c] − row_zero[r] · col_sum[c]) (+ bias[c])
//
// in the same operations for both, so that they give the same bits.
//
// Included only by those two translation units, each compiled with AVX-512;
// internal linkage, so that neither copy stands in for the other.
#pragma once
#include <immintrin.h>

#include "tformer/kernels/gemm_avx512_tile.h"  // lane_mask
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {
namespace {

// The tile's column parameters, loaded once; row(i, ...) writes row i of C.
struct Int8Rescale {
  const GemmTile& t;
  const GemmQuantTile& q;
  __mmask16 m0, m1;
  __m512 col_scale0, col_scale1, bias0, bias1;
  __m512i col_sum0, col_sum1;

  Int8Rescale(const GemmTile& tile, const GemmQuantTile& quant)
      : t(tile),
        q(quant),
        m0(lane_mask(tile.cols)),
        m1(lane_mask(tile.cols - 16)),
        col_scale0(_mm512_maskz_loadu_ps(m0, quant.col_scale)),
        col_scale1(_mm512_maskz_loadu_ps(m1, quant.col_scale + 16)),
        bias0(tile.bias ? _mm512_maskz_loadu_ps(m0, tile.bias) : _mm512_setzero_ps()),
        bias1(tile.bias ? _mm512_maskz_loadu_ps(m1, tile.bias + 16) : _mm512_setzero_ps()),
        col_sum0(_mm512_maskz_loadu_epi32(m0, quant.col_sum)),
        col_sum1(_mm512_maskz_loadu_epi32(m1, quant.col_sum + 16)) {}

  // Row i from its sums for columns 0-15 (acc0) and 16-31 (acc1).
  void row(int i, __m512i acc0, __m512i acc1) const {
    const __m512i zero = _mm512_set1_epi32(q.row_zero[i]);
    const __m512 scale = _mm512_set1_ps(q.row_scale[i]);
    __m512 y0 = _mm512_mul_ps(_mm512_mul_ps(scale, col_scale0),
                              _mm512_cvtepi32_ps(_mm512_sub_epi32(acc0, _mm512_mullo_epi32(zero, col_sum0))));
    __m512 y1 = _mm512_mul_ps(_mm512_mul_ps(scale, col_scale1),
                              _mm512_cvtepi32_ps(_mm512_sub_epi32(acc1, _mm512_mullo_epi32(zero, col_sum1))));
    float* c = t.c + i * t.ldc;
    if (t.bias) {
      y0 = _mm512_add_ps(y0, bias0);
      y1 = _mm512_add_ps(y1, bias1);
    }
    if (t.accumulate) {
      y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, c));
      y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, y0);
    _mm512_mask_storeu_ps(c + 16, m1, y1);
  }
};

}  // namespace
}  // namespace tformer::kernels::detail
