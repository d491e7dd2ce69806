// Input: a preprocessor_config.json, read as ViTImageProcessor; what it reads then preprocesses two
// small RGB images, so that every size, filter, factor, mean and std a config may hold reaches
// resize and the normalisation (sizes past 256 x 256 pixels only parse: a run would take seconds).
#include "fuzz_support.h"
#include "tformer/image/vit_image_processor.h"

using namespace tformer_fuzz;
using tformer::image::Image;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const MemFile file("preprocessor_config.json");
  // A 3x2 and a 2x3 image: without do_resize, preprocessing them must refuse their two sizes.
  static const std::vector<Image> images = [] {
    std::vector<Image> out{Image(3, 2, 3), Image(2, 3, 3)};
    for (Image& image : out) {
      for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 97);
    }
    return out;
  }();
  file.write(data, size);
  expect_only_tformer_errors([&] {
    const auto processor = tformer::image::ViTImageProcessor::from_file(file.path());
    if (processor.height * processor.width > 256 * 256) return;
    volatile float sink = 0;
    for (float v : processor.preprocess({images[0]}).to_vector()) sink = sink + v;
    (void)processor.preprocess(images);
  });
  return 0;
}
