#include "tformer/core/cpu.h"

#include <cstdlib>
#include <string>

#include "tformer/core/error.h"

namespace tformer {

bool cpu_supports(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
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

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

namespace {
Isa detect() {
  Isa best = cpu_supports(Isa::Avx512) ? Isa::Avx512 : cpu_supports(Isa::Avx2) ? Isa::Avx2 : Isa::Generic;
  const char* env = std::getenv("TFORMER_ISA");
  if (!env || !*env) return best;
  std::string want(env);
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    if (want == isa_name(isa)) {
      TF_CHECK(cpu_supports(isa), "TFORMER_ISA=" << want << ": this CPU does not support it");
      return isa;
    }
  }
  TF_FAIL("TFORMER_ISA=" << want << ": expected generic, avx2 or avx512");
}
}  // namespace

Isa active_isa() {
  static const Isa isa = detect();
  return isa;
}

}  // namespace tformer
