#include "tformer/kernels/bicubic.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tformer::kernels {

namespace {
constexpr float kA = -0.75f;

// The taps and weights of one output coordinate, computed in float as
// PyTorch's CPU kernel computes them for float tensors.
struct Taps {
  int64_t index[4];
  float weight[4];
};

std::vector<Taps> taps_for(int64_t in, int64_t out, double scale) {
  const float step = static_cast<float>(1.0 / scale);
  std::vector<Taps> taps(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    const float source = step * (static_cast<float>(o) + 0.5f) - 0.5f;
    const float floor_source = std::floor(source);
    const float t = source - floor_source;
    auto near = [](float x) { return ((kA + 2) * x - (kA + 3)) * x * x + 1; };        // |x| ≤ 1
    auto far = [](float x) { return ((kA * x - 5 * kA) * x + 8 * kA) * x - 4 * kA; };  // 1 < |x| < 2
    Taps& tp = taps[static_cast<size_t>(o)];
    tp.weight[0] = far(t + 1);
    tp.weight[1] = near(t);
    tp.weight[2] = near(1 - t);
    tp.weight[3] = far(2 - t);
    for (int j = 0; j < 4; ++j)
      tp.index[j] = std::clamp<int64_t>(static_cast<int64_t>(floor_source) - 1 + j, 0, in - 1);
  }
  return taps;
}
}  // namespace

void resize_bicubic(const BicubicResize& r, const float* src, float* dst) {
  const std::vector<Taps> ys = taps_for(r.in_h, r.out_h, r.scale_h), xs = taps_for(r.in_w, r.out_w, r.scale_w);
  for (int64_t p = 0; p < r.planes; ++p) {
    const float* plane = src + p * r.in_h * r.in_w;
    for (int64_t oy = 0; oy < r.out_h; ++oy) {
      const Taps& ty = ys[static_cast<size_t>(oy)];
      for (int64_t ox = 0; ox < r.out_w; ++ox) {
        const Taps& tx = xs[static_cast<size_t>(ox)];
        float sum = 0.0f;
        for (int i = 0; i < 4; ++i) {
          const float* row = plane + ty.index[i] * r.in_w;
          float across = 0.0f;
          for (int j = 0; j < 4; ++j) across += row[tx.index[j]] * tx.weight[j];
          sum += across * ty.weight[i];
        }
        dst[(p * r.out_h + oy) * r.out_w + ox] = sum;
      }
    }
  }
}

}  // namespace tformer::kernels
