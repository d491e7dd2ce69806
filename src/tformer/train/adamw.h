// AdamW (decoupled weight decay), step for step as torch.optim.AdamW with
// amsgrad=False, maximize=False, foreach=False:
//   p      ← p · (1 − lr·weight_decay)          (only parameters with weight_decay set)
//   m      ← β1·m + (1 − β1)·g
//   v      ← β2·v + (1 − β2)·g²
//   p      ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
// in fp32 with the scalar factors computed in double, as torch does.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tformer/core/tensor.h"
#include "tformer/io/tensor_source.h"
#include "tformer/nn/parameter.h"

namespace tformer::train {

struct AdamWOptions {
  double lr = 1e-3;  // used by step() without an argument
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  // Applied only to parameters whose weight_decay flag is set.
  double weight_decay = 0.0;
};

class AdamW {
 public:
  // The parameters must outlive the optimiser; their values must be
  // contiguous fp32. Moments start at zero.
  AdamW(nn::ParameterList params, AdamWOptions options = {});

  // One update of every parameter from its gradient, at learning rate `lr`
  // (the schedule's value for this step). Every parameter needs a contiguous
  // fp32 gradient of its value's shape: one without is an error rather than
  // skipped, because torch would then keep a separate step count for it.
  // Elementwise and split over the thread pool, so results are bit-identical
  // whatever the thread count.
  void step(double lr);
  void step() { step(options_.lr); }

  // Sets every gradient to zero, allocating those not yet allocated, ready
  // for the next (possibly accumulated) backward pass.
  void zero_grad();

  // Optimizer steps taken so far (torch's state["step"]).
  int64_t steps() const { return steps_; }
  const AdamWOptions& options() const { return options_; }
  const nn::ParameterList& parameters() const { return params_; }

  // Resumable state: "exp_avg.<name>" and "exp_avg_sq.<name>" per parameter
  // (views of the live moments; save them before the next step), and the step
  // count as metadata {kStepsKey: "<steps>"}.
  static constexpr const char* kStepsKey = "adamw.steps";
  std::vector<std::pair<std::string, Tensor>> state_tensors() const;
  std::map<std::string, std::string> state_metadata() const;

  // Restores state_tensors()/state_metadata(). Every moment must be present
  // with its parameter's shape; a moment named after no parameter means the
  // state belongs to another model. Other tensors are ignored (a trainer may
  // keep its own in the same file). Throws tformer::Error naming `origin` and
  // the tensor, and leaves the optimiser as it was.
  void load_state(const std::vector<std::pair<std::string, Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata,
                  const std::string& origin = "AdamW state");
  // The same from a file written with io::save_safetensors(path,
  // state_tensors(), state_metadata()).
  void load_state(const io::TensorSource& file);

 private:
  struct Moments {
    Tensor exp_avg, exp_avg_sq;
  };
  nn::ParameterList params_;
  AdamWOptions options_;
  std::vector<Moments> moments_;  // parallel to params_
  int64_t steps_ = 0;
};

}  // namespace tformer::train
