// Image folders for image classification (one sub-folder per class) and the
// training augmentation: crop, flip, RandomResizedCrop.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/image/decode.h"
#include "tformer/image/encode.h"
#include "tformer/image/transform.h"
#include "tformer/train/image_folder.h"

namespace tformer {
namespace {

namespace fs = std::filesystem;

image::Image gradient(int64_t w, int64_t h) {
  image::Image img(w, h, 3);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) img.at(x, y, c) = static_cast<uint8_t>((x * 7 + y * 3 + c * 50) % 256);
  return img;
}

TEST(ImageTransform, CropAndFlip) {
  const image::Image img = gradient(9, 5);
  const image::Image part = image::crop(img, 2, 1, 4, 3);
  ASSERT_EQ(part.width, 4);
  ASSERT_EQ(part.height, 3);
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 4; ++x) EXPECT_EQ(part.at(x, y, 1), img.at(x + 2, y + 1, 1));
  const image::Image flipped = image::flip_horizontal(img);
  for (int64_t x = 0; x < 9; ++x) EXPECT_EQ(flipped.at(x, 2, 0), img.at(8 - x, 2, 0));
  EXPECT_EQ(image::flip_horizontal(flipped).pixels, img.pixels);
  EXPECT_THROW(image::crop(img, 6, 0, 4, 1), Error);
  EXPECT_THROW(image::crop(img, 0, 0, 0, 1), Error);
  EXPECT_THROW(image::crop(img, -1, 0, 2, 2), Error);
}

TEST(RandomResizedCrop, BoxesFitTheirBounds) {
  const train::RandomResizedCrop rrc;
  std::mt19937_64 rng(1);
  for (int i = 0; i < 2000; ++i) {
    const train::CropBox b = rrc.sample(640, 480, rng);
    ASSERT_GE(b.left, 0);
    ASSERT_GE(b.top, 0);
    ASSERT_LE(b.left + b.width, 640);
    ASSERT_LE(b.top + b.height, 480);
    const double share = double(b.width) * b.height / (640.0 * 480.0), ratio = double(b.width) / b.height;
    EXPECT_GE(share, 0.075) << i;  // 0.08 less rounding
    EXPECT_GE(ratio, 0.74) << i;
    EXPECT_LE(ratio, 1.35) << i;
  }
  std::mt19937_64 a(7), b(7);
  for (int i = 0; i < 10; ++i) {
    const train::CropBox x = rrc.sample(300, 200, a), y = rrc.sample(300, 200, b);
    EXPECT_EQ(std::tie(x.left, x.top, x.width, x.height), std::tie(y.left, y.top, y.width, y.height));
  }
}

TEST(RandomResizedCrop, FallsBackToTheCentredClampedRatio) {
  // 1000 × 10: no region of ≥ 8 % of the area with a ratio ≤ 4/3 fits 10 rows.
  std::mt19937_64 rng(3);
  const train::CropBox b = train::RandomResizedCrop{}.sample(1000, 10, rng);
  EXPECT_EQ(b.height, 10);
  EXPECT_EQ(b.width, 13);  // round(10 · 4/3)
  EXPECT_EQ(b.left, (1000 - 13) / 2);
  EXPECT_EQ(b.top, 0);
}

TEST(RandomResizedCrop, AugmentGivesTheTrainingSize) {
  std::mt19937_64 rng(5);
  const image::Image cat = image::load_image(testing::shared_dir() / "images" / "chelsea.png");
  for (int i = 0; i < 4; ++i) {
    const image::Image view = train::augment(cat, 32, {}, rng);
    EXPECT_EQ(view.width, 32);
    EXPECT_EQ(view.height, 32);
    EXPECT_EQ(view.channels, 3);
  }
}

TEST(ImageFolder, ClassesAreSortedFolderNames) {
  const fs::path root = fs::temp_directory_path() / "tformer_test_image_folder";
  fs::remove_all(root);
  for (const char* dir : {"dog", "cat", "cat/more", ".hidden"}) fs::create_directories(root / dir);
  const image::Image img = gradient(4, 4);
  for (const char* file : {"dog/b.png", "dog/a.JPG", "cat/x.jpeg", "cat/more/y.png", ".hidden/z.png", "cat/.z.png"})
    image::save_image(img, root / file);
  { std::ofstream(root / "cat" / "notes.txt") << "not an image"; }
  const train::ImageFolder f = train::ImageFolder::scan(root);
  EXPECT_EQ(f.classes, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(f.images.size(), 4u);
  // Sorted by path: cat/more/y.png, cat/x.jpeg, dog/a.JPG, dog/b.png.
  EXPECT_EQ(f.images[0].path.filename(), "y.png");
  EXPECT_EQ(f.images[2].path.filename(), "a.JPG");
  EXPECT_EQ(f.images[0].label, 0);
  EXPECT_EQ(f.images[3].label, 1);
  fs::create_directories(root / "empty");
  EXPECT_THROW(train::ImageFolder::scan(root), Error);
  EXPECT_THROW(train::ImageFolder::scan(root / "dog" / "b.png"), Error);
  fs::remove_all(root);
}

}  // namespace
}  // namespace tformer
