// ViT's patch embedding (Dosovitskiy et al., 2021): a Conv2d whose kernel and
// stride are the patch size, computed as one GEMM of the flattened patches
// [B·N, C·P·P] against the kernel [hidden, C·P·P] (kernels/patches.h).
#pragma once
#include <cstdint>

#include "tformer/core/tensor.h"
#include "tformer/io/weight_source.h"
#include "tformer/kernels/patches.h"
#include "tformer/nn/linear.h"

namespace tformer::nn {

class PatchEmbedding {
 public:
  PatchEmbedding() = default;
  // `projection.weight` [hidden, channels, patch, patch] and its bias under `vb`.
  static PatchEmbedding load(const io::WeightView& vb, int64_t channels, int64_t patch, int64_t hidden);

  // The grid of this embedding's patches over images [B, C, H, W].
  kernels::PatchGrid grid(const Tensor& images) const {
    return {images.dim(0), images.dim(1), images.dim(2), images.dim(3), patch_};
  }
  int64_t patch() const { return patch_; }
  // pixels [B, C, H, W] → out [B, N, hidden], N = (H / P)·(W / P); `patches`
  // is scratch for the flattened patches. The images must have the
  // embedding's channels and hold at least one patch.
  void forward(const float* pixels, const kernels::PatchGrid& grid, Tensor& patches, float* out) const;
  void set_weight_format(kernels::GemmFormat format) { projection_.set_weight_format(format); }

 private:
  int64_t channels_ = 0, patch_ = 0;
  Linear projection_;
};

}  // namespace tformer::nn
