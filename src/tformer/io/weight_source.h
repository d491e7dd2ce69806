// Where a model's weights come from, and the prefix-scoped view modules load
// through. A Checkpoint is one source; a random initialiser (for training from
// scratch) is another, so a module has one load path whatever the origin.
#pragma once
#include <string>

#include "tformer/core/tensor.h"

namespace tformer::io {

class WeightSource {
 public:
  virtual ~WeightSource() = default;
  virtual bool contains(const std::string& name) const = 0;
  // fp32 tensor of exactly this shape; missing or mis-shaped is an Error
  // naming the source and the tensor.
  virtual Tensor get_f32(const std::string& name, const Shape& expected) const = 0;
  // For messages: "dir/model.safetensors", "random initialisation".
  virtual std::string source() const = 0;
};

// A prefix-scoped view of a weight source, as candle's VarBuilder: a module
// asks for its local names ("query.weight") and the view adds the path.
class WeightView {
 public:
  explicit WeightView(const WeightSource& source, std::string prefix = "")
      : source_(&source), prefix_(std::move(prefix)) {}
  WeightView pp(const std::string& name) const { return WeightView(*source_, prefix_ + name + "."); }
  WeightView pp(int index) const { return pp(std::to_string(index)); }  // "layer" + 3 → "…layer.3."
  std::string full_name(const std::string& local) const { return prefix_ + local; }
  bool contains(const std::string& local) const { return source_->contains(full_name(local)); }
  Tensor get(const std::string& local, const Shape& expected) const {
    return source_->get_f32(full_name(local), expected);
  }
  const WeightSource& source() const { return *source_; }

 private:
  const WeightSource* source_;
  std::string prefix_;
};

}  // namespace tformer::io
