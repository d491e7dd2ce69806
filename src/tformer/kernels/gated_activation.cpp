#include "tformer/kernels/gated_activation.h"

#include <cstring>

#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

void gated_activation(Activation act, const float* gate_up, int64_t rows, int64_t n, float* out) {
  parallel_for(rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* gate = gate_up + r * 2 * n;
      const float* up = gate + n;
      float* y = out + r * n;
      std::memcpy(y, gate, n * sizeof(float));
      activate_serial(act, y, n);
      for (int64_t i = 0; i < n; ++i) y[i] *= up[i];
    }
  });
}

}  // namespace tformer::kernels
