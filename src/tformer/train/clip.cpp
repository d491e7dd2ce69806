#include "tformer/train/clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/kernels/multiversion.h"
#include "tformer/kernels/vector_math.h"

namespace tformer::train {

namespace {

// Partial sums cover blocks of this many elements whatever the thread count;
// only how blocks are spread over threads changes, never what is added to what.
constexpr int64_t kNormBlock = 1 << 16;
// Elementwise work per thread below which splitting costs more than it saves.
constexpr int64_t kScaleGrain = 1 << 15;

struct GradBlock {
  const float* data;
  int64_t n;
};

// Σ x[i]² in double, in 8 lanes (lane i mod 8) added in lane order at the
// end: one add chain per element kept the baseline loop waiting on the
// adder's latency, ~1 % of a BERT-base training step.
TF_MULTIVERSION(double, sum_of_squares, (const float* x, int64_t n), {
  constexpr int kLanes = 8;
  double lanes[kLanes] = {};
  kernels::for_each_in_lanes<kLanes>(n, [&](int64_t i, int j) { lanes[j] += double(x[i]) * x[i]; });
  double sum = 0;
  for (int j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
})

float* checked_grad(const nn::Parameter& p) {
  TF_CHECK(p.grad.dtype() == DType::F32 && p.grad.is_contiguous(),
           "gradient of '" << p.name << "' must be contiguous fp32");
  return p.grad.data<float>();
}

}  // namespace

double grad_norm(const nn::ParameterList& params) {
  std::vector<GradBlock> blocks;
  for (const nn::Parameter* p : params) {
    if (!p->grad.defined()) continue;
    const float* g = checked_grad(*p);
    for (int64_t begin = 0; begin < p->grad.numel(); begin += kNormBlock)
      blocks.push_back({g + begin, std::min(kNormBlock, p->grad.numel() - begin)});
  }
  std::vector<double> block_sums(blocks.size());
  const auto squares = TF_SELECT(sum_of_squares, active_isa());
  parallel_for(static_cast<int64_t>(blocks.size()), 1, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) block_sums[b] = squares(blocks[b].data, blocks[b].n);
  });
  double total = 0;
  for (double s : block_sums) total += s;
  return std::sqrt(total);
}

float clip_grad_norm(const nn::ParameterList& params, float max_norm) {
  // torch computes the norm and the coefficient in fp32 tensors.
  const float total_norm = static_cast<float>(grad_norm(params));
  const float clip_coef = max_norm / (total_norm + 1e-6f);
  if (!(clip_coef < 1.0f)) return total_norm;
  for (const nn::Parameter* p : params) {
    if (!p->grad.defined()) continue;
    float* g = checked_grad(*p);
    parallel_for(p->grad.numel(), kScaleGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) g[i] *= clip_coef;
    });
  }
  return total_norm;
}

}  // namespace tformer::train
