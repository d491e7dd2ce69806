// Tensor: a strided view (shape, strides in elements, dtype) onto a shared
// byte storage. Storage is either an owned 64-byte-aligned buffer or borrowed
// memory kept alive by an owner handle (a memory-mapped checkpoint). Shapes
// live inline (no heap), so making views in a forward pass allocates nothing
// but the shared_ptr copy.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tformer/core/checked_size.h"
#include "tformer/core/dtype.h"
#include "tformer/core/error.h"

namespace tformer {

inline constexpr int kMaxDims = 6;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);
  // Throws tformer::Error for a negative dimension, a rank over kMaxDims or
  // more than 2^63 elements.
  explicit Shape(std::span<const int64_t> dims);

  int ndim() const { return n_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  int64_t numel() const;
  std::vector<int64_t> to_vector() const { return {d_.begin(), d_.begin() + n_}; }
  std::string str() const;  // "[2, 7, 32]"
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxDims> d_{};
  int n_ = 0;
};

// Bytes behind a tensor. `owner` keeps borrowed memory (an mmap) alive.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  std::shared_ptr<const void> owner;
  bool owned = false;
  ~Storage();
};

class Tensor {
 public:
  Tensor() = default;

  static Tensor empty(const Shape& shape, DType dtype = DType::F32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32);
  static Tensor full(const Shape& shape, float value);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  // A view of memory owned by someone else; `owner` keeps it alive.
  static Tensor borrow(std::shared_ptr<const void> owner, void* data, const Shape& shape,
                       DType dtype);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + ndim() : i]; }
  int64_t stride(int i) const { return strides_[i < 0 ? i + ndim() : i]; }
  int64_t numel() const { return shape_.numel(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool is_contiguous() const;

  void* raw() const { return static_cast<char*>(storage_->data) + offset_; }
  template <class T>
  T* data() const {
    check_type(sizeof(T));
    return static_cast<T*>(raw());
  }

  // Views (no copy). reshape requires a contiguous tensor.
  Tensor reshape(const Shape& shape) const;
  Tensor narrow(int dim, int64_t start, int64_t length) const;
  Tensor select(int dim, int64_t index) const;  // drops `dim`
  Tensor transpose(int a, int b) const;

  // Copies.
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;  // float types only; returns *this when equal
  void copy_from(const Tensor& src);  // same shape; converts float types
  std::vector<float> to_vector() const;  // any float dtype, any strides

 private:
  void check_type(size_t elem_size) const;
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;  // bytes
  Shape shape_;
  std::array<int64_t, kMaxDims> strides_{};
  DType dtype_ = DType::F32;
};

// Grows a scratch tensor to hold at least `numel` elements (1-D), never
// shrinking it, so repeated calls of one shape allocate nothing.
void ensure_capacity(Tensor& t, int64_t numel, DType dtype = DType::F32);

}  // namespace tformer
