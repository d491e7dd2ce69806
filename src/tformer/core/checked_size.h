// Size arithmetic on numbers that come from files (shapes, strides, offsets,
// element counts): every product and sum is overflow-checked, so a lying
// header becomes an Error instead of a wrapped byte count that a copy then
// trusts. Every loader and Tensor itself size memory through these.
//
// Each function throws tformer::Error whose message starts with `where`
// ("model.bin: tensor 'w'") and says which number is wrong.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tformer {

// The largest byte count tformer allocates or maps as one tensor: what
// pointer differences can hold.
inline constexpr uint64_t kMaxTensorBytes = uint64_t(PTRDIFF_MAX);

// Elements of a tensor of these dimensions. Every dimension must be
// non-negative, and the product of the non-zero ones must fit in int64, so
// that contiguous strides fit too (a [0, 2^32, 2^32] shape holds no element,
// but its first stride would be 2^64).
int64_t checked_numel(std::span<const int64_t> dims, std::string_view where);

// numel × element size, in bytes, at most kMaxTensorBytes.
size_t checked_nbytes(int64_t numel, size_t element_size, std::string_view where);

// How many elements of its storage a strided view touches: 0 for a view of
// no element, else offset + Σ (size − 1) · stride + 1, the index of its last
// element plus one. Sizes, strides and the offset must be non-negative, and
// the view may not hold more elements than it touches (no stride-0 view that
// repeats one stored value 2^29 times: checkpoints store what they hold).
int64_t checked_view_extent(int64_t offset, std::span<const int64_t> sizes, std::span<const int64_t> strides,
                            std::string_view where);

}  // namespace tformer
