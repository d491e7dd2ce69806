#include "tformer/kernels/patches.h"

#include "tformer/core/thread_pool.h"

namespace tformer::kernels {

namespace {
// Calls visit(patch_offset, image_offset) for every value of every patch of
// image b: the offset of the value in the patches and in the images.
template <class Visit>
void for_each_patch_value(const PatchGrid& g, PatchOrder order, int64_t b, Visit visit) {
  const int64_t p = g.patch, n = g.patches(), values = g.patch_values(), plane = g.height * g.width;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t top = (i / g.cols()) * p, left = (i % g.cols()) * p;
    const int64_t patch_base = (b * n + i) * values;
    for (int64_t c = 0; c < g.channels; ++c)
      for (int64_t y = 0; y < p; ++y) {
        const int64_t image_row = (b * g.channels + c) * plane + (top + y) * g.width + left;
        for (int64_t x = 0; x < p; ++x) {
          const int64_t k = order == PatchOrder::ChannelMajor ? (c * p + y) * p + x : (y * p + x) * g.channels + c;
          visit(patch_base + k, image_row + x);
        }
      }
  }
}
}  // namespace

void extract_patches(const PatchGrid& grid, PatchOrder order, const float* images, float* patches) {
  parallel_for(grid.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for_each_patch_value(grid, order, b, [&](int64_t pi, int64_t ii) { patches[pi] = images[ii]; });
  });
}

void assemble_patches(const PatchGrid& grid, PatchOrder order, const float* patches, float* images) {
  // The output is exactly the grid's area: the images' width is cols · P.
  PatchGrid g = grid;
  g.height = grid.rows() * grid.patch;
  g.width = grid.cols() * grid.patch;
  parallel_for(g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      for_each_patch_value(g, order, b, [&](int64_t pi, int64_t ii) { images[ii] = patches[pi]; });
  });
}

}  // namespace tformer::kernels
