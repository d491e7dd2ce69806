// Bicubic resampling of float planes as PyTorch's
// F.interpolate(mode="bicubic", align_corners=False, scale_factor=s) does it
// (ViT's interpolate_pos_encoding resizes its grid of position embeddings so):
// Keys' cubic convolution with A = −0.75, output pixel o read from the source
// coordinate (o + 0.5) / s − 0.5 (the given scale, not in/out), the four taps
// clamped to the edge.
//
// Shapes: planes [planes, in_h, in_w] → [planes, out_h, out_w].
#pragma once
#include <cstdint>

namespace tformer::kernels {

struct BicubicResize {
  int64_t planes = 0, in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  double scale_h = 1.0, scale_w = 1.0;  // output / input, as passed to interpolate
};

void resize_bicubic(const BicubicResize& r, const float* src, float* dst);

}  // namespace tformer::kernels
