// GEMM micro-kernels, one per instruction set, for the blocked driver in
// gemm.cpp (the BLIS design: pack, then run a register-tile kernel).
//
//   C[rows, cols] (+)= Σ_k a[k][r] · b[k][c]      r < rows ≤ MR, c < cols ≤ NR
//
// a is a packed A micro-panel, kc steps of MR floats (rows past `rows` zero);
// b a packed B micro-panel, kc steps of NR floats (columns past `cols` zero),
// 64-byte aligned. accumulate: C's old values start the sums (else they are
// overwritten). Each C element is one chain of fused multiply-adds over k in
// order, whatever the tile's position, so a GEMM's result does not depend on
// how its tiles are shared among threads.
//
// Each kernel lives in its own translation unit compiled for its ISA
// (gemm_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp; CMakeLists.txt sets the
// flags by file name) and uses no inline library templates, so no
// wider-ISA code can leak into the others through the linker.
#pragma once
#include <cstdint>

namespace tformer::kernels::detail {

using GemmMicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                                   int rows, int cols, bool accumulate);

struct GemmMicroKernel {
  int mr = 0, nr = 0;  // register tile
  GemmMicroKernelFn run = nullptr;
};

GemmMicroKernel gemm_micro_kernel_avx512();
GemmMicroKernel gemm_micro_kernel_avx2();
GemmMicroKernel gemm_micro_kernel_generic();

}  // namespace tformer::kernels::detail
