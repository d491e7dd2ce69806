#include "tformer/core/cpu.h"

#include <cstdlib>
#include <string>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "tformer/core/error.h"

namespace tformer {

namespace {
#if defined(__x86_64__)
// AMX-TILE and AMX-BF16 in CPUID leaf 7, and the kernel's permission for
// this process to use the tile data state (Linux 5.16+: without it, the first
// tile instruction would kill the process).
bool amx_int8_flag() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (edx & (1u << 25));
}

bool amx_usable() {
  static const bool usable = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool amx_bf16 = edx & (1u << 22), amx_tile = edx & (1u << 24);
    if (!amx_bf16 || !amx_tile) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
}
#endif
}  // namespace

bool cpu_supports(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::Amx:
      return cpu_supports(Isa::Avx512) && amx_usable();
    case Isa::Generic:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }
  return false;
#else
  return isa == Isa::Generic;
#endif
}

bool cpu_supports_avx512_bf16() {
#if defined(__x86_64__)
  return cpu_supports(Isa::Avx512) && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

bool cpu_supports_avx512_vnni() {
#if defined(__x86_64__)
  return cpu_supports(Isa::Avx512) && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

bool cpu_supports_amx_int8() {
#if defined(__x86_64__)
  return cpu_supports(Isa::Amx) && amx_int8_flag();
#else
  return false;
#endif
}

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Amx: return "amx";
  }
  return "?";
}

namespace {
Isa detect() {
  Isa best = Isa::Generic;
  for (Isa isa : {Isa::Avx2, Isa::Avx512, Isa::Amx})
    if (cpu_supports(isa)) best = isa;
  const char* env = std::getenv("TFORMER_ISA");
  if (!env || !*env) return best;
  std::string want(env);
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512, Isa::Amx}) {
    if (want == isa_name(isa)) {
      TF_CHECK(cpu_supports(isa), "TFORMER_ISA=" << want << ": this CPU does not support it");
      return isa;
    }
  }
  TF_FAIL("TFORMER_ISA=" << want << ": expected generic, avx2, avx512 or amx");
}
}  // namespace

Isa active_isa() {
  static const Isa isa = detect();
  return isa;
}

}  // namespace tformer
