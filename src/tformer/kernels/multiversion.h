// Run-time instruction-set dispatch for element-wise kernel loops.
//
// TF_MULTIVERSION defines one loop three times: compiled for AVX-512, for
// AVX2 + FMA and for the baseline (as GCC's target attribute allows within
// one translation unit), named name_avx512, name_avx2 and name_generic.
// TF_SELECT(name, isa) picks the copy for an Isa, normally active_isa(),
// which honours TFORMER_ISA, so tests can run every path the CPU has.
// Inline helpers called from the body (vector_math.h) are inlined into each
// copy and vectorised for its ISA. Unlike target_clones, nothing is chosen
// behind the caller's back.
//
// The GEMM micro-kernels use intrinsics instead and live in their own
// translation units (gemm_kernels.h).
#pragma once
#include <algorithm>
#include <cstdint>

#include "tformer/core/cpu.h"
#include "tformer/core/thread_pool.h"

#define TF_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
#define TF_TARGET_AVX2 __attribute__((target("avx2,fma")))

#define TF_MULTIVERSION(ret, name, params, ...)    \
  TF_TARGET_AVX512 ret name##_avx512 params __VA_ARGS__ \
  TF_TARGET_AVX2 ret name##_avx2 params __VA_ARGS__     \
  ret name##_generic params __VA_ARGS__

#define TF_SELECT(name, isa)                                   \
  ((isa) >= ::tformer::Isa::Avx512 ? name##_avx512           \
   : (isa) == ::tformer::Isa::Avx2 ? name##_avx2 : name##_generic)

namespace tformer::kernels {

// parallel_for over [0, n) for a multiversioned element loop, split only at
// multiples of 16 elements: a vector body and its scalar tail may round
// differently (FMA contraction), so every element must meet the same path
// whatever the thread count for results to be bit-identical.
template <class F>
void parallel_for_vectors(int64_t n, int64_t grain, F&& f) {
  constexpr int64_t kBlock = 16;
  parallel_for((n + kBlock - 1) / kBlock, std::max<int64_t>(1, grain / kBlock),
               [&](int64_t b, int64_t e) { f(b * kBlock, std::min(n, e * kBlock)); });
}

}  // namespace tformer::kernels
