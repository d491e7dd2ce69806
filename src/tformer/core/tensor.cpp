#include "tformer/core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <sstream>

#include <sys/mman.h>

namespace tformer {

// Every Shape holds non-negative dimensions whose element count and
// contiguous strides fit in int64 (checked_numel), so numel() and the strides
// below need no checks of their own.
Shape::Shape(std::initializer_list<int64_t> dims) : Shape(std::span<const int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(const std::vector<int64_t>& dims) : Shape(std::span<const int64_t>(dims)) {}

Shape::Shape(std::span<const int64_t> dims) {
  TF_CHECK(dims.size() <= kMaxDims, "tensor rank " << dims.size() << " exceeds " << kMaxDims);
  checked_numel(dims, "tensor");
  for (int64_t v : dims) d_[n_++] = v;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < n_; ++i) n *= d_[i];
  return n;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << '[';
  for (int i = 0; i < n_; ++i) os << (i ? ", " : "") << d_[i];
  os << ']';
  return os.str();
}

bool Shape::operator==(const Shape& o) const {
  if (n_ != o.n_) return false;
  for (int i = 0; i < n_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}

Storage::~Storage() {
  if (owned) std::free(data);
}

namespace {
std::array<int64_t, kMaxDims> contiguous_strides(const Shape& s) {
  std::array<int64_t, kMaxDims> st{};
  int64_t acc = 1;
  for (int i = s.ndim() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}
}  // namespace

namespace {
void* allocate_buffer(size_t bytes) {
  // Large buffers (packed weights, a batch's activations) are aligned to and
  // asked for in 2 MB pages: streaming hundreds of megabytes of weights
  // through 4 KB pages costs a TLB miss every 4 KB, and the hardware
  // prefetchers stop at each page boundary. Where transparent huge pages are
  // off the advice is ignored and nothing else changes.
  constexpr size_t kHugePage = size_t(2) << 20;
  const bool huge = bytes >= kHugePage;
  const size_t align = huge ? kHugePage : 64;
  const size_t alloc = bytes ? (bytes + align - 1) / align * align : align;
  void* p = std::aligned_alloc(align, alloc);
  if (!p) throw std::bad_alloc();
  if (huge) madvise(p, alloc, MADV_HUGEPAGE);
  return p;
}
}  // namespace

namespace {
// A tensor's bytes. Shape already bounds numel, so only the product with the
// element size can overflow; the message is built only then, not on every
// allocation.
size_t tensor_nbytes(const Shape& shape, DType dtype) {
  const size_t element_size = dtype_size(dtype);
  if (static_cast<uint64_t>(shape.numel()) <= kMaxTensorBytes / element_size)
    return static_cast<size_t>(shape.numel()) * element_size;
  return checked_nbytes(shape.numel(), element_size, "tensor of shape " + shape.str());  // throws
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>();
  const size_t bytes = tensor_nbytes(shape, dtype);
  t.storage_->data = allocate_buffer(bytes);
  t.storage_->nbytes = bytes;
  t.storage_->owned = true;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(shape, DType::F32);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = value;
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  TF_CHECK(static_cast<int64_t>(values.size()) == shape.numel(),
           values.size() << " values do not fill shape " << shape.str());
  Tensor t = empty(shape, DType::F32);
  std::memcpy(t.raw(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor Tensor::borrow(std::shared_ptr<const void> owner, void* data, const Shape& shape,
                      DType dtype) {
  Tensor t;
  t.storage_ = std::make_shared<Storage>();
  t.storage_->data = data;
  t.storage_->nbytes = tensor_nbytes(shape, dtype);
  t.storage_->owner = std::move(owner);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

bool Tensor::is_contiguous() const {
  return strides_ == contiguous_strides(shape_) || numel() <= 1;
}

void Tensor::check_type(size_t elem_size) const {
  TF_CHECK(defined(), "access to an undefined tensor");
  TF_CHECK(elem_size == dtype_size(dtype_), "tensor of dtype " << dtype_name(dtype_)
                                                << " accessed as a " << elem_size
                                                << "-byte element type");
}

Tensor Tensor::reshape(const Shape& shape) const {
  TF_CHECK(is_contiguous(), "reshape of a non-contiguous tensor " << shape_.str());
  TF_CHECK(shape.numel() == numel(), "cannot reshape " << shape_.str() << " to " << shape.str());
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  return t;
}

Tensor Tensor::narrow(int d, int64_t start, int64_t length) const {
  if (d < 0) d += ndim();
  TF_CHECK(d >= 0 && d < ndim(), "narrow: dim " << d << " out of range for " << shape_.str());
  TF_CHECK(start >= 0 && length >= 0 && start + length <= shape_[d],
           "narrow: [" << start << ", " << start + length << ") out of range for dim " << d
                       << " of " << shape_.str());
  Tensor t = *this;
  t.offset_ += static_cast<size_t>(start * strides_[d]) * dtype_size(dtype_);
  t.shape_[d] = length;
  return t;
}

Tensor Tensor::select(int d, int64_t index) const {
  if (d < 0) d += ndim();
  Tensor t = narrow(d, index, 1);
  Shape s;
  std::array<int64_t, kMaxDims> st{};
  std::vector<int64_t> dims;
  int j = 0;
  for (int i = 0; i < ndim(); ++i) {
    if (i == d) continue;
    dims.push_back(shape_[i]);
    st[j++] = strides_[i];
  }
  t.shape_ = Shape(dims);
  t.strides_ = st;
  return t;
}

Tensor Tensor::transpose(int a, int b) const {
  if (a < 0) a += ndim();
  if (b < 0) b += ndim();
  TF_CHECK(a >= 0 && b >= 0 && a < ndim() && b < ndim(), "transpose: bad dims for " << shape_.str());
  Tensor t = *this;
  std::swap(t.shape_[a], t.shape_[b]);
  std::swap(t.strides_[a], t.strides_[b]);
  return t;
}

namespace {
// Visits every element of `t` in row-major order, calling fn(byte_offset_from_raw, linear_index).
template <class Fn>
void for_each_offset(const Shape& shape, const std::array<int64_t, kMaxDims>& strides, size_t esize,
                     Fn fn) {
  int64_t n = shape.numel();
  if (n == 0) return;
  std::array<int64_t, kMaxDims> idx{};
  int nd = shape.ndim();
  int64_t off = 0;
  for (int64_t lin = 0; lin < n; ++lin) {
    fn(static_cast<size_t>(off) * esize, lin);
    for (int i = nd - 1; i >= 0; --i) {
      if (++idx[i] < shape[i]) {
        off += strides[i];
        break;
      }
      off -= strides[i] * (shape[i] - 1);
      idx[i] = 0;
    }
  }
}
}  // namespace

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_);
  size_t es = dtype_size(dtype_);
  const char* src = static_cast<const char*>(raw());
  char* dst = static_cast<char*>(out.raw());
  if (is_contiguous()) {
    std::memcpy(dst, src, nbytes());
  } else {
    for_each_offset(shape_, strides_, es,
                    [&](size_t off, int64_t lin) { std::memcpy(dst + lin * es, src + off, es); });
  }
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape_, dtype);
  if (dtype == DType::F32) {
    convert_to_f32(dtype_, src.raw(), out.data<float>(), numel());
  } else {
    Tensor f = src.to(DType::F32);
    convert_from_f32(f.data<float>(), dtype, out.raw(), numel());
  }
  return out;
}

void Tensor::copy_from(const Tensor& src) {
  TF_CHECK(src.shape() == shape_, "copy_from: shape " << src.shape().str() << " into " << shape_.str());
  Tensor s = src.to(dtype_).contiguous();
  size_t es = dtype_size(dtype_);
  const char* sp = static_cast<const char*>(s.raw());
  char* dp = static_cast<char*>(raw());
  if (is_contiguous()) {
    std::memcpy(dp, sp, nbytes());
  } else {
    for_each_offset(shape_, strides_, es,
                    [&](size_t off, int64_t lin) { std::memcpy(dp + off, sp + lin * es, es); });
  }
}

std::vector<float> Tensor::to_vector() const {
  Tensor f = contiguous().to(DType::F32);
  const float* p = f.data<float>();
  return std::vector<float>(p, p + numel());
}

void ensure_capacity(Tensor& t, int64_t numel, DType dtype) {
  if (!t.defined() || t.dtype() != dtype || t.numel() < numel) t = Tensor::empty({numel}, dtype);
}

}  // namespace tformer
