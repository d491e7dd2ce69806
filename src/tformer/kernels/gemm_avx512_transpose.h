// A 16 × 16 register transpose of 32-bit lanes, shared by the AVX-512
// fp32 kernel's B packing (gemm_avx512.cpp) and the bf16 packing's word
// transposes (gemm_pack_avx512.cpp).
//
// Included only by translation units compiled for AVX-512; internal
// linkage, as in gemm_avx512_tile.h.
#pragma once
#include <immintrin.h>

namespace tformer::kernels::detail {
namespace {

// Transposes 16 rows of 16 floats in place (row i lane j -> row j lane i):
// pairs of rows interleave, then quads within each 128-bit lane, then the
// 128-bit lanes themselves in two rounds.
void transpose_16x16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);      // per lane: a0 b0 a1 b1
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);  //           a2 b2 a3 b3
  }
  for (int i = 0; i < 4; ++i) {  // r[4i + j], lane L: rows 4i .. 4i+3 of column 4L + j
    r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {  // gather each column's four row groups
    t[j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
    t[4 + j] = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);
    t[8 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
    t[12 + j] = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
  }
  for (int j = 0; j < 4; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    r[8 + j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
    r[4 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0x88);
    r[12 + j] = _mm512_shuffle_f32x4(t[4 + j], t[12 + j], 0xDD);
  }
}

}  // namespace
}  // namespace tformer::kernels::detail
