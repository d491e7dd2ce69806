// GEMM micro-kernels, one per instruction set and operand format, for the
// blocked driver in gemm.cpp (the BLIS design: pack, in gemm_pack.cpp, then run a
// register-tile kernel).
//
//   C[rows, cols] (+)= Σ_s a[s][r] · b[s][c]      r < rows ≤ MR, c < cols ≤ NR
//
// a is a packed A micro-panel, `steps` steps of MR words (rows past `rows`
// zero; the AMX kernels want them as MR rows of `steps` words), or for fp32
// kernels that read A in place, A's own rows (GemmTile::lda); b a packed
// B micro-panel, `steps` steps of NR words (columns past `cols` zero),
// 64-byte aligned. A word is 4 bytes and covers k_per_step
// values of k: one fp32 (F32), or a pair of bf16 for k and k + 1 (BF16,
// multiplied pairwise by vdpbf16ps), or four int8 values for the int8
// kernels. accumulate: C's old values start the sums (else the bias, or 0,
// and C is overwritten). Each C element is one chain of fused
// multiply-adds over k in order, whatever the tile's position, so a GEMM's
// result does not depend on how its tiles are shared among threads.
//
// Each kernel lives in its own translation unit compiled for its ISA
// (gemm_avx512.cpp, gemm_bf16_avx512bf16.cpp, gemm_bf16_amx.cpp,
// gemm_int8_avx512vnni.cpp, gemm_int8_amx.cpp, gemm_avx2.cpp,
// gemm_generic.cpp; CMakeLists.txt sets the flags by file name) and uses no inline library templates, so no
// wider-ISA code can leak into the others through the linker.
#pragma once
#include <cstdint>

namespace tformer::kernels::detail {

// One register tile's work: C[rows, cols] (+)= a · b over `steps` packed
// steps. While it computes, the tile also pulls `prefetch_lines` cache lines
// from `prefetch` toward L2, spread over its steps: the driver points them
// at its share of the next B micro-panel, so that weights streamed from
// memory arrive before they are needed rather than stalling the first tile
// that reads them.
struct GemmTile {
  int64_t steps = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  float* c = nullptr;
  int64_t ldc = 0;
  int rows = 0, cols = 0;
  bool accumulate = false;
  // With accumulate false: the sums start from bias[c] (cols of them)
  // instead of 0, so that no pass over C adds it afterwards. Null: from 0.
  const float* bias = nullptr;
  // A read in place (kernels with reads_a_in_place, fp32 only): row r's
  // values of k at a + r·lda, consecutive; 0: a is a packed micro-panel.
  int64_t lda = 0;
  const char* prefetch = nullptr;
  int64_t prefetch_lines = 0;
  // The C tile that the driver hands the kernel next (same ldc), or null.
  // The kernel pulls its rows into L1 for writing (prefetch_next_c) while it
  // computes: a tall GEMM's C rows lie pages apart, beyond the hardware
  // prefetchers, and each tile would otherwise start with a round trip to
  // L3 for every row.
  const float* c_next = nullptr;
};

// Quantised (int8) kernels also take the tile's dequantisation parameters:
// per row of A a scale and a u8 zero point, per column of B a scale and the
// sum of its s8 values.
struct GemmQuantTile {
  const float* row_scale;
  const int32_t* row_zero;
  const float* col_scale;
  const int32_t* col_sum;
};

using GemmMicroKernelFn = void (*)(const GemmTile& tile);
using GemmQuantKernelFn = void (*)(const GemmTile& tile, const GemmQuantTile& q);

namespace {  // internal linkage: each kernel's translation unit has its own copy
// Spreads a tile's prefetches over its steps: `per_step` lines a step until
// all are issued. prefetcht1 (to L2): the B micro-panel moves on to L1 when
// the kernel reads it, and L1 is already full of the current panels.
struct TilePrefetcher {
  const char* next;
  const char* end;
  int64_t per_step;
  explicit TilePrefetcher(const GemmTile& t)
      : next(t.prefetch),
        end(t.prefetch + 64 * t.prefetch_lines),
        per_step(t.steps > 0 ? (t.prefetch_lines + t.steps - 1) / t.steps : 0) {}
  void step() {
    for (int64_t i = 0; i < per_step && next < end; ++i, next += 64) __builtin_prefetch(next, 0, 2);
  }
};

// GemmTile::c_next's first `rows` rows of `cols` floats, for writing (prefetchw).
inline void prefetch_next_c(const GemmTile& t, int rows, int cols) {
  if (!t.c_next) return;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; j += 16) __builtin_prefetch(t.c_next + i * t.ldc + j, 1, 3);
}
}  // namespace

struct GemmMicroKernel {
  int mr = 0, nr = 0;              // register tile
  int k_per_step = 1;              // values of k in one packed word
  int step_multiple = 1;           // packed steps are zero-padded to a multiple of this
  bool a_rows_contiguous = false;  // A panel layout: [row][step] (AMX tiles), else [step][row]
  bool reads_a_in_place = false;   // can take an unpacked row-major fp32 A (GemmTile::lda)
  int kc = 0;                      // values of k per cache block, if not the driver's default
  GemmMicroKernelFn run = nullptr;           // float kernels
  // Optional fast packing of an fp32 B panel stored transposed ([N, K], a
  // Linear weight or attention's keys): dst[k·NR + c] = b[c·ldb + k] for
  // k < kc, c < cols, columns past cols zero; dst 64-byte aligned.
  void (*pack_b_transposed)(const float* b, int64_t ldb, int64_t kc, int cols, uint32_t* dst) = nullptr;
  GemmQuantKernelFn run_quantized = nullptr;  // int8 kernels: words of four k, u8 A, s8 B
};

// dst[j · dst_stride + i] = src[i · src_stride + j] for i < rows, j < cols,
// 32-bit words (gemm_pack_avx512.cpp; only where the CPU has AVX-512).
void transpose_words_avx512(const uint32_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint32_t* dst,
                            int64_t dst_stride);

GemmMicroKernel gemm_micro_kernel_avx512();
GemmMicroKernel gemm_micro_kernel_avx512_bf16();
GemmMicroKernel gemm_micro_kernel_amx_bf16();
GemmMicroKernel gemm_micro_kernel_avx512_vnni_int8();
GemmMicroKernel gemm_micro_kernel_amx_int8();
GemmMicroKernel gemm_micro_kernel_avx2();
GemmMicroKernel gemm_micro_kernel_generic();

}  // namespace tformer::kernels::detail
