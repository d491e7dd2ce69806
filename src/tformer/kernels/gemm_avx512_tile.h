// The AVX-512 register tile shared by the fp32 kernel (gemm_avx512.cpp) and
// the bf16 kernel (gemm_bf16_avx512bf16.cpp): a 12 × 32 tile, 24 zmm
// accumulators, two B vectors and one broadcast A word per row and step.
// `Step` says what a step does with them (an FMA, or a vdpbf16ps pair).
//
// Included only by those two translation units, each compiled for its own
// ISA; everything here has internal linkage so that neither copy can stand in
// for the other at link time.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {
namespace {

constexpr int kAvx512Mr = 12, kAvx512Nr = 32;

__mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1); }

// The tile's first R rows (R ≤ 12): a partial tile, as M = 1 of decoding,
// runs only its own rows' steps.
// kInPlace: A's rows are read where they lie (t.lda apart), else from a
// packed micro-panel.
template <int R, bool kInPlace, class Step>
void avx512_tile(const GemmTile& t) {
  const auto* a = static_cast<const uint32_t*>(t.a);
  const int64_t a_row = kInPlace ? t.lda : 1, a_step = kInPlace ? 1 : kAvx512Mr;
  const auto* b = static_cast<const float*>(t.b);
  float* c = t.c;
  const int64_t ldc = t.ldc;
  const __mmask16 m0 = lane_mask(t.cols), m1 = lane_mask(t.cols - 16);
  const __m512 start0 = t.bias ? _mm512_maskz_loadu_ps(m0, t.bias) : _mm512_setzero_ps();
  const __m512 start1 = t.bias ? _mm512_maskz_loadu_ps(m1, t.bias + 16) : _mm512_setzero_ps();
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i) {
    acc[i][0] = t.accumulate ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : start0;
    acc[i][1] = t.accumulate ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16) : start1;
  }
  TilePrefetcher prefetch(t);
  prefetch_next_c(t, R, kAvx512Nr);
  for (int64_t s = 0; s < t.steps; ++s) {
    prefetch.step();
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) Step::apply(a[i * a_row], b0, b1, acc[i][0], acc[i][1]);
    a += a_step;
    b += kAvx512Nr;
  }
#pragma GCC unroll 12
  for (int i = 0; i < R; ++i) {
    _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);
  }
}

template <bool kInPlace, class Step>
void avx512_tile_rows(const GemmTile& t) {
  switch (t.rows) {
    case 1: return avx512_tile<1, kInPlace, Step>(t);
    case 2: return avx512_tile<2, kInPlace, Step>(t);
    case 3: return avx512_tile<3, kInPlace, Step>(t);
    case 4: return avx512_tile<4, kInPlace, Step>(t);
    case 5: return avx512_tile<5, kInPlace, Step>(t);
    case 6: return avx512_tile<6, kInPlace, Step>(t);
    case 7: return avx512_tile<7, kInPlace, Step>(t);
    case 8: return avx512_tile<8, kInPlace, Step>(t);
    case 9: return avx512_tile<9, kInPlace, Step>(t);
    case 10: return avx512_tile<10, kInPlace, Step>(t);
    case 11: return avx512_tile<11, kInPlace, Step>(t);
    default: return avx512_tile<kAvx512Mr, kInPlace, Step>(t);
  }
}

template <class Step>
void avx512_micro_kernel(const GemmTile& t) {
  if (t.lda) return avx512_tile_rows<true, Step>(t);
  avx512_tile_rows<false, Step>(t);
}

}  // namespace
}  // namespace tformer::kernels::detail
