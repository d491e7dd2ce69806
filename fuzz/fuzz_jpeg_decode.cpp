// Input: a JPEG file, decoded by image::decode_image (libpng / libjpeg-turbo
// under tformer's error handling, the EXIF or XMP orientation applied). The
// pixel limit is lowered to 2^22 so that a header's size cannot make one run
// slow; what is refused must be a tformer::Error.
#include "fuzz_support.h"
#include "tformer/image/decode.h"

using namespace tformer_fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  expect_only_tformer_errors([&] {
    const tformer::image::Image img = tformer::image::decode_image(data, size, "fuzz.jpeg", int64_t(1) << 22);
    if (img.pixels.size() != static_cast<size_t>(img.width * img.height * 3)) __builtin_trap();
  });
  return 0;
}
