// One weights file seen as a set of named tensors: what Checkpoint needs from
// every format (safetensors, pytorch_model.bin), so shards of either kind are
// handled alike.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tformer/core/tensor.h"

namespace tformer::io {

struct StoredTensor {
  std::string name;  // as written in the file
  DType dtype;
  Shape shape;
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  virtual const std::filesystem::path& path() const = 0;
  // Every tensor in the file, in file order.
  virtual const std::vector<StoredTensor>& tensors() const = 0;
  // The tensor in its stored dtype, contiguous; a view of the file's memory map
  // when its bytes allow. Throws naming the file and tensor when absent.
  virtual Tensor load(const std::string& name) const = 0;
  // safetensors `__metadata__`; empty for formats without one.
  virtual const std::map<std::string, std::string>& metadata() const = 0;
};

}  // namespace tformer::io
