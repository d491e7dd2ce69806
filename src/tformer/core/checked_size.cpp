#include "tformer/core/checked_size.h"

#include <sstream>

#include "tformer/core/error.h"

namespace tformer {

namespace {
std::string list(std::span<const int64_t> values) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
  os << ']';
  return os.str();
}
}  // namespace

int64_t checked_numel(std::span<const int64_t> dims, std::string_view where) {
  int64_t nonzero_product = 1;
  bool empty = false;
  for (int64_t d : dims) {
    TF_CHECK(d >= 0, where << ": shape " << list(dims) << " has a negative dimension");
    if (d == 0) {
      empty = true;
      continue;
    }
    TF_CHECK(!__builtin_mul_overflow(nonzero_product, d, &nonzero_product),
             where << ": shape " << list(dims) << " overflows: more than 2^63 elements");
  }
  return empty ? 0 : nonzero_product;
}

size_t checked_nbytes(int64_t numel, size_t element_size, std::string_view where) {
  TF_CHECK(numel >= 0, where << ": negative element count " << numel);
  uint64_t bytes = 0;
  TF_CHECK(!__builtin_mul_overflow(static_cast<uint64_t>(numel), element_size, &bytes) &&
               bytes <= kMaxTensorBytes,
           where << ": " << numel << " elements of " << element_size << " bytes overflow the byte count");
  return static_cast<size_t>(bytes);
}

int64_t checked_view_extent(int64_t offset, std::span<const int64_t> sizes, std::span<const int64_t> strides,
                            std::string_view where) {
  TF_CHECK(sizes.size() == strides.size(),
           where << ": size " << list(sizes) << " and stride " << list(strides) << " differ in rank");
  TF_CHECK(offset >= 0, where << ": negative storage offset " << offset);
  for (int64_t s : strides) TF_CHECK(s >= 0, where << ": negative stride in " << list(strides));
  const int64_t numel = checked_numel(sizes, where);
  if (numel == 0) return 0;
  int64_t last = offset;
  for (size_t d = 0; d < sizes.size(); ++d) {
    int64_t step = 0;
    TF_CHECK(!__builtin_mul_overflow(sizes[d] - 1, strides[d], &step) && !__builtin_add_overflow(last, step, &last) &&
                 last < INT64_MAX,
             where << ": size " << list(sizes) << ", stride " << list(strides) << " and offset " << offset
                   << " overflow the storage index");
  }
  const int64_t extent = last + 1;
  TF_CHECK(numel <= extent - offset,
           where << ": size " << list(sizes) << " with stride " << list(strides) << " repeats stored elements ("
                 << numel << " elements over " << extent - offset << " stored ones)");
  return extent;
}

}  // namespace tformer
