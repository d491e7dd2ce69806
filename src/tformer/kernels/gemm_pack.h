// Operand packing for the blocked GEMM (gemm.cpp's driver): which
// micro-kernel an ISA and format get, and the layouts that kernel reads
// (gemm_kernels.h), filled from A and B as GemmArgs give them. PackedB
// (gemm.h) is built here too.
//
// Internal to the GEMM: included by gemm.cpp and gemm_pack.cpp only.
#pragma once
#include <cstdint>
#include <vector>

#include "tformer/core/cpu.h"
#include "tformer/kernels/gemm.h"
#include "tformer/kernels/gemm_kernels.h"

namespace tformer::kernels::detail {

// Cache blocking (BLIS's KC, MC, NC). A KC-deep B micro-panel (KC × NR,
// 32 KB) stays in L1 while the micro-kernel walks the A micro-panels of the
// packed A block (MC × KC, 192 KB) held in L2, as BLIS's macro-kernel does;
// a B block packed per call is KC × NC (768 KB).
// MC and NC are multiples of every kernel's MR and NR.
constexpr int64_t kKc = 256, kMc = 192, kNc = 768;

// Whether bf16 operands get a bf16 kernel at this level (else PackedB rounds
// the weights to bf16 and computes in fp32).
bool has_bf16_kernel(Isa isa);
// Whether int8 operands get an int8 kernel at this level (else PackedB keeps
// the quantised weights' fp32 values and computes in fp32).
bool has_int8_kernel(Isa isa);
// The micro-kernel for an ISA and format; an error if the CPU lacks it.
const GemmMicroKernel& micro_kernel(Isa isa, GemmFormat format = GemmFormat::F32);

// A per-thread, 64-byte-aligned buffer of at least n words that only grows.
uint32_t* aligned_scratch(std::vector<uint32_t>& buffer, int64_t n);

// Steps (packed words per row or column) that kc values of k take.
int64_t packed_steps(const GemmMicroKernel& uk, int64_t kc);

// Packs alpha · op(A)[ic : ic+mc, pc : pc+kc] as panels of mr rows: panel p
// at dst + p·mr·steps holds `steps` words for each of mr rows, as [step][row]
// or, for kernels that want rows contiguous, [row][step]; rows past mc and
// steps past kc are zero. mc ≤ kMc.
void pack_a(const GemmArgs& g, GemmFormat format, const GemmMicroKernel& uk, int64_t ic, int64_t mc, int64_t pc,
            int64_t kc, uint32_t* dst);

// Quantises alpha · op(A)[ic : ic+mc, 0 : K] row by row to u8 (a scale and
// zero point per row, into row_scale and row_zero) and packs it as pack_a
// does, four values of k per word.
void pack_a_int8(const GemmArgs& g, const GemmMicroKernel& uk, int64_t ic, int64_t mc, uint32_t* dst,
                 float* row_scale, int32_t* row_zero);

// Packs op(B)[pc : pc+kc, jc : jc+nc] (fp32, or bf16 pairs) as panels of nr
// columns: panel p at dst + p·panel_stride holds `steps` words for each of
// nr columns, columns past nc and steps past kc zero.
void pack_b(const float* b, int64_t ldb, bool trans_b, GemmFormat format, const GemmMicroKernel& uk, int64_t steps,
            int64_t pc, int64_t kc, int64_t jc, int64_t nc, int64_t panel_stride, uint32_t* dst);

}  // namespace tformer::kernels::detail
