#include "tformer/nn/patch_embedding.h"

#include "tformer/core/error.h"

namespace tformer::nn {

PatchEmbedding PatchEmbedding::load(const io::WeightView& vb, int64_t channels, int64_t patch, int64_t hidden) {
  PatchEmbedding e;
  e.channels_ = channels;
  e.patch_ = patch;
  e.projection_ = Linear::load_flattened(vb.pp("projection"), {hidden, channels, patch, patch});
  return e;
}

void PatchEmbedding::forward(const float* pixels, const kernels::PatchGrid& grid, Tensor& patches,
                             float* out) const {
  TF_CHECK(grid.channels == channels_ && grid.patch == patch_ && grid.patches() > 0,
           "patch embedding: images of " << grid.channels << " channels, " << grid.height << " × " << grid.width
                                         << ", for " << channels_ << "-channel patches of " << patch_);
  const int64_t rows = grid.batch * grid.patches();
  ensure_capacity(patches, rows * grid.patch_values());
  kernels::extract_patches(grid, kernels::PatchOrder::ChannelMajor, pixels, patches.data<float>());
  projection_.forward(patches.data<float>(), rows, out);
}

}  // namespace tformer::nn
