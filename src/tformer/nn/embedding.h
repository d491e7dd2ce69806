// Embedding: a lookup table [num_embeddings, dim], loaded as `weight`.
#pragma once
#include <cstdint>
#include <string>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/nn/parameter.h"

namespace tformer::nn {

class Embedding {
 public:
  Embedding() = default;
  static Embedding load(const io::WeightView& vb, int64_t num_embeddings, int64_t dim,
                        std::string what);

  // out[i] = table[ids[i]] (accumulate: out[i] += table[ids[i]]). An id outside
  // the table is an Error naming `what` ("token id 40000 is outside the
  // vocabulary of 30522").
  void lookup(const int32_t* ids, int64_t n, float* out, bool accumulate) const;
  const float* row(int64_t id) const { return weight_.value.data<float>() + id * dim(); }

  int64_t num_embeddings() const { return weight_.value.dim(0); }
  int64_t dim() const { return weight_.value.dim(1); }
  const Tensor& weight() const { return weight_.value; }
  void parameters(ParameterList& out) { out.push_back(&weight_); }
  void enable_grad() { enable_parameter_grad(weight_); }
  // Scatter-adds dy [n, dim] into the rows of the gradient that ids[i] chose.
  void backward(const int32_t* ids, int64_t n, const float* dy);

 private:
  Parameter weight_;
  std::string what_;
};

}  // namespace tformer::nn
