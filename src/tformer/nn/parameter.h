// A trainable parameter: its Hugging Face name, its value and its gradient.
// Values are owned fp32 tensors or views into a fused buffer (BERT's Q, K and
// V weights live in one [3·H, H] block so one GEMM computes all three; each
// keeps its own name for the optimiser and for saving). A gradient is
// undefined until training allocates it.
#pragma once
#include <string>
#include <vector>

#include "tformer/core/tensor.h"

namespace tformer::nn {

struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;
  // Trainer's grouping: weights decay; biases and LayerNorm weights do not.
  bool weight_decay = true;
};

using ParameterList = std::vector<Parameter*>;

// Allocates a zeroed gradient of the value's shape, if there is none yet.
inline void enable_parameter_grad(Parameter& p) {
  if (!p.grad.defined()) p.grad = Tensor::zeros(p.value.shape());
}

}  // namespace tformer::nn
