// CPU feature detection and the instruction-set level that kernels dispatch on.
#pragma once
#include <string_view>

namespace tformer {

// Levels in increasing order. Amx is Avx512 plus the AMX-BF16 tile unit
// (Sapphire Rapids and later), which tformer uses for bf16 GEMMs; fp32
// kernels run their AVX-512 code there.
enum class Isa { Generic, Avx2, Avx512, Amx };

// The best level this CPU supports, lowered by TFORMER_ISA=generic|avx2|avx512|amx
// (a request above what the CPU has is an error).
Isa active_isa();
std::string_view isa_name(Isa isa);
bool cpu_supports(Isa isa);
// AVX512-BF16 (vdpbf16ps), on top of Isa::Avx512: tformer's bf16 GEMM
// where there is no AMX.
bool cpu_supports_avx512_bf16();
// AVX512-VNNI (vpdpbusd), on top of Isa::Avx512: tformer's int8 GEMM.
bool cpu_supports_avx512_vnni();
// AMX-INT8 (TDPBUSD), on top of Isa::Amx: tformer's int8 GEMM on tiles.
bool cpu_supports_amx_int8();

}  // namespace tformer
