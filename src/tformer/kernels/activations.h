// Element-wise activations over n floats, in place or into another buffer. Names follow Hugging
// Face's ACT2FN keys: "gelu" (exact, erf), "gelu_new"/"gelu_pytorch_tanh"
// (tanh approximation), "relu", "tanh", "silu".
#pragma once
#include <cstdint>
#include <string>

#include "tformer/core/cpu.h"

namespace tformer::kernels {

enum class Activation { Gelu, GeluTanh, Relu, Tanh, Silu };

// Parses a config.json `hidden_act`; an unknown name is an Error naming `source`.
Activation activation_from_name(const std::string& name, const std::string& source);
// isa: which compiled copy runs (multiversion.h); tests pass each in turn.
void activate(Activation act, float* x, int64_t n, Isa isa = active_isa());
// y = act(x) over n floats, in one pass (training keeps x for the backward);
// y may be x.
void activate(Activation act, const float* x, float* y, int64_t n, Isa isa = active_isa());
// The same on the calling thread only (for callers already in a parallel
// region, such as GEMM epilogues).
void activate_serial(Activation act, float* x, int64_t n, Isa isa = active_isa());

}  // namespace tformer::kernels
