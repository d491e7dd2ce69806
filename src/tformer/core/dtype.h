// Element types that tensors and checkpoints may hold, and scalar conversions
// between the 16-bit float formats and fp32.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tformer {

enum class DType : uint8_t { F32, F64, F16, BF16, I8, U8, I16, I32, I64, Bool };

size_t dtype_size(DType t);
// Safetensors spelling: "F32", "BF16", "I64", ...
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);
bool dtype_is_float(DType t);

inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest even, as torch's .to(torch.bfloat16); NaN stays NaN.
inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// Converts n elements of any type to fp32 (integers and bools by value).
void convert_to_f32(DType src_type, const void* src, float* dst, size_t n);
// Converts n fp32 elements to a float type (F32, F16, BF16).
void convert_from_f32(const float* src, DType dst_type, void* dst, size_t n);

}  // namespace tformer
