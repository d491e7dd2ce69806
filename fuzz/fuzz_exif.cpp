// Input: an EXIF block (a TIFF structure, with or without "Exif\0\0"), read
// by image::exif_block_orientation, and the same bytes as XMP text and as a
// PNG "Raw profile type exif" text. None of them may throw or read outside
// the block.
#include "fuzz_support.h"
#include "tformer/image/exif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> block(data, size);
  const std::optional<int> orientation = tformer::image::exif_block_orientation(block);
  if (orientation && (*orientation < 1 || *orientation > 8)) __builtin_trap();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)tformer::image::xmp_orientation(text);
  if (const auto raw = tformer::image::raw_profile_exif(text)) (void)tformer::image::exif_block_orientation(*raw);
  return 0;
}
