// Non-overlapping square patches of images, and back.
//
// Shapes: images [B, C, H, W] (channels first, as pixel_values); a grid of
// (H / P) × (W / P) patches of P × P, numbered row by row; patches
// [B, N, P·P·C]. Trailing rows and columns that fill no whole patch are
// left out, as a convolution of stride P drops them.
//
// Two orders of a patch's P·P·C values:
//   ChannelMajor (c, y, x): a Conv2d weight [out, C, P, P] flattened, so that
//     ViT's patch embedding is one GEMM against the patches;
//   PixelMajor (y, x, c): ViT-MAE's patchify ("nchpwq → nhwpqc"), the order of
//     its decoder's predictions and of its loss target.
#pragma once
#include <cstdint>

namespace tformer::kernels {

enum class PatchOrder { ChannelMajor, PixelMajor };

struct PatchGrid {
  int64_t batch = 0, channels = 0, height = 0, width = 0, patch = 0;
  int64_t rows() const { return height / patch; }
  int64_t cols() const { return width / patch; }
  int64_t patches() const { return rows() * cols(); }
  int64_t patch_values() const { return patch * patch * channels; }
};

// patches [B, N, P·P·C] from images [B, C, H, W].
void extract_patches(const PatchGrid& grid, PatchOrder order, const float* images, float* patches);
// images [B, C, rows·P, cols·P] from patches [B, N, P·P·C]: the inverse
// (ViT-MAE's unpatchify).
void assemble_patches(const PatchGrid& grid, PatchOrder order, const float* patches, float* images);

}  // namespace tformer::kernels
