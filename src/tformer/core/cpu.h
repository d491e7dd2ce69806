// CPU feature detection and the instruction-set level that kernels dispatch on.
#pragma once
#include <string_view>

namespace tformer {

enum class Isa { Generic, Avx2, Avx512 };

// The best level this CPU supports, lowered by TFORMER_ISA=generic|avx2|avx512
// (a request above what the CPU has is an error).
Isa active_isa();
std::string_view isa_name(Isa isa);
bool cpu_supports(Isa isa);
// AVX512-BF16 (vdpbf16ps), on top of Isa::Avx512: tformer's bf16 GEMM.
bool cpu_supports_avx512_bf16();

}  // namespace tformer
