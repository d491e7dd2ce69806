#include "tformer/train/adamw.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"

namespace tformer::train {

namespace {

// Elements per thread below which splitting an update costs more than it saves.
constexpr int64_t kUpdateGrain = 1 << 15;

constexpr std::string_view kExpAvgPrefix = "exp_avg.";
constexpr std::string_view kExpAvgSqPrefix = "exp_avg_sq.";

bool is_moment_name(std::string_view name) {
  return name.starts_with(kExpAvgPrefix) || name.starts_with(kExpAvgSqPrefix);
}

void check_fp32_contiguous(const Tensor& t, const std::string& param, const char* what) {
  TF_CHECK(t.dtype() == DType::F32 && t.is_contiguous(),
           "AdamW: " << what << " of parameter '" << param << "' must be contiguous fp32");
}

void check_grad(const nn::Parameter& p) {
  TF_CHECK(p.grad.defined(),
           "AdamW: parameter '" << p.name << "' has no gradient (zero_grad() allocates gradients)");
  check_fp32_contiguous(p.grad, p.name, "gradient");
  TF_CHECK(p.grad.shape() == p.value.shape(), "AdamW: gradient of '" << p.name << "' has shape "
                                                  << p.grad.shape().str() << ", its value "
                                                  << p.value.shape().str());
}

int64_t parse_steps(const std::map<std::string, std::string>& metadata, const std::string& origin) {
  auto it = metadata.find(AdamW::kStepsKey);
  TF_CHECK(it != metadata.end(), origin << ": metadata has no '" << AdamW::kStepsKey << "'");
  const std::string& text = it->second;
  int64_t steps = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), steps);
  TF_CHECK(ec == std::errc() && end == text.data() + text.size() && steps >= 0,
           origin << ": metadata '" << AdamW::kStepsKey << "' is '" << text
                  << "', not a step count");
  return steps;
}

// The step's scalars, as torch rounds them to fp32 where they meet a tensor.
struct AdamWScalars {
  float decay, beta1, one_minus_beta1, beta2, one_minus_beta2, neg_step_size, bias_correction2_sqrt, eps;
};

// One AdamW update of n elements, one torch in-place op per line, in
// torch's order. This file is compiled without FMA contraction
// (CMakeLists.txt), so that each op rounds on its own as torch's separate
// ops do, and the update is compiled once per ISA: the square root and two
// divisions per element made the baseline loop compute-bound (~5 % of a
// BERT-base training step).
TF_MULTIVERSION(void, adamw_update,
                (const AdamWScalars& s, float* __restrict value, const float* __restrict grad,
                 float* __restrict exp_avg, float* __restrict exp_avg_sq, int64_t n),
                {
                  const AdamWScalars c = s;  // in registers: the stores below cannot change them
                  for (int64_t i = 0; i < n; ++i) {
                    value[i] *= c.decay;
                    exp_avg[i] = exp_avg[i] * c.beta1 + c.one_minus_beta1 * grad[i];
                    exp_avg_sq[i] = exp_avg_sq[i] * c.beta2 + c.one_minus_beta2 * grad[i] * grad[i];
                    const float denom = std::sqrt(exp_avg_sq[i]) / c.bias_correction2_sqrt + c.eps;
                    value[i] += c.neg_step_size * exp_avg[i] / denom;
                  }
                })

}  // namespace

AdamW::AdamW(nn::ParameterList params, AdamWOptions options)
    : params_(std::move(params)), options_(options) {
  std::set<std::string> names;
  moments_.reserve(params_.size());
  for (const nn::Parameter* p : params_) {
    check_fp32_contiguous(p->value, p->name, "value");
    TF_CHECK(names.insert(p->name).second, "AdamW: parameter '" << p->name << "' listed twice");
    moments_.push_back({Tensor::zeros(p->value.shape()), Tensor::zeros(p->value.shape())});
  }
}

void AdamW::step(double lr) {
  for (const nn::Parameter* p : params_) check_grad(*p);
  ++steps_;
  // torch's scalars: Python doubles, each rounded to fp32 where it meets a tensor.
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, double(steps_));
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, double(steps_));
  AdamWScalars scalars;
  scalars.beta1 = float(options_.beta1);
  scalars.one_minus_beta1 = float(1.0 - options_.beta1);
  scalars.beta2 = float(options_.beta2);
  scalars.one_minus_beta2 = float(1.0 - options_.beta2);
  scalars.neg_step_size = float(-(lr / bias_correction1));
  scalars.bias_correction2_sqrt = float(std::sqrt(bias_correction2));
  scalars.eps = float(options_.eps);
  const auto update = TF_SELECT(adamw_update, active_isa());
  for (size_t k = 0; k < params_.size(); ++k) {
    const nn::Parameter& p = *params_[k];
    AdamWScalars s = scalars;
    s.decay = float(1.0 - lr * (p.weight_decay ? options_.weight_decay : 0.0));
    float* value = p.value.data<float>();
    const float* grad = p.grad.data<float>();
    float* exp_avg = moments_[k].exp_avg.data<float>();
    float* exp_avg_sq = moments_[k].exp_avg_sq.data<float>();
    parallel_for(p.value.numel(), kUpdateGrain, [&](int64_t begin, int64_t end) {
      update(s, value + begin, grad + begin, exp_avg + begin, exp_avg_sq + begin, end - begin);
    });
  }
}

void AdamW::zero_grad() {
  for (nn::Parameter* p : params_) {
    if (!p->grad.defined()) {
      p->grad = Tensor::zeros(p->value.shape());
    } else {
      check_grad(*p);
      float* grad = p->grad.data<float>();  // cleared by all threads: BERT-base's are 440 MB
      parallel_for(p->grad.numel(), kUpdateGrain, [&](int64_t b, int64_t e) {
        std::memset(grad + b, 0, sizeof(float) * (e - b));
      });
    }
  }
}

std::vector<std::pair<std::string, Tensor>> AdamW::state_tensors() const {
  std::vector<std::pair<std::string, Tensor>> out;
  out.reserve(2 * params_.size());
  for (size_t k = 0; k < params_.size(); ++k) {
    out.emplace_back(std::string(kExpAvgPrefix) + params_[k]->name, moments_[k].exp_avg);
    out.emplace_back(std::string(kExpAvgSqPrefix) + params_[k]->name, moments_[k].exp_avg_sq);
  }
  return out;
}

std::map<std::string, std::string> AdamW::state_metadata() const {
  return {{kStepsKey, std::to_string(steps_)}};
}

void AdamW::load_state(const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata,
                       const std::string& origin) {
  const int64_t steps = parse_steps(metadata, origin);
  std::unordered_map<std::string, const Tensor*> by_name;
  for (const auto& [name, tensor] : tensors)
    if (is_moment_name(name)) by_name.emplace(name, &tensor);

  // Copy everything first so a bad tensor leaves the optimiser untouched.
  auto take = [&](std::string_view prefix, const nn::Parameter& p) {
    const std::string name = std::string(prefix) + p.name;
    auto it = by_name.find(name);
    TF_CHECK(it != by_name.end(), origin << ": missing tensor '" << name << "'");
    const Tensor& stored = *it->second;
    TF_CHECK(stored.dtype() == DType::F32, origin << ": tensor '" << name << "' is "
                                                  << dtype_name(stored.dtype()) << ", expected F32");
    TF_CHECK(stored.shape() == p.value.shape(),
             origin << ": tensor '" << name << "' has shape " << stored.shape().str()
                    << ", but parameter '" << p.name << "' has shape " << p.value.shape().str());
    Tensor copy = Tensor::empty(stored.shape());
    copy.copy_from(stored);
    by_name.erase(it);
    return copy;
  };
  std::vector<Moments> loaded;
  loaded.reserve(params_.size());
  for (const nn::Parameter* p : params_) {
    Tensor exp_avg = take(kExpAvgPrefix, *p);
    loaded.push_back({std::move(exp_avg), take(kExpAvgSqPrefix, *p)});
  }
  TF_CHECK(by_name.empty(), origin << ": tensor '" << by_name.begin()->first
                                   << "' names no parameter of this model");
  moments_ = std::move(loaded);
  steps_ = steps;
}

void AdamW::load_state(const io::TensorSource& file) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const io::StoredTensor& stored : file.tensors())
    if (is_moment_name(stored.name)) tensors.emplace_back(stored.name, file.load(stored.name));
  load_state(tensors, file.metadata(), file.path().string());
}

}  // namespace tformer::train
