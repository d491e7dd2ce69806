// image::resize against Pillow 9.4's Image.resize, byte for byte (tests/data/resize/cases.json, written
// by tools/make_resize_fixtures.py), and its refusals.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "image_test_support.h"
#include "tformer/core/error.h"
#include "tformer/image/resize.h"
#include "test_util.h"

using namespace tformer;
using image::Image;
using image::Resample;
using tformer::testing::pattern_image;
using tformer::testing::stored_form;

namespace {

const char* filter_name(int filter) {
  static const char* const names[] = {"nearest", "lanczos", "bilinear", "bicubic", "box", "hamming"};
  return names[filter];
}

}  // namespace

TEST(ImageResize, MatchesPillowOnEveryFixtureCase) {
  const nlohmann::json cases = tformer::testing::load_json(tformer::testing::resize_data_dir() / "cases.json");
  ASSERT_GT(cases.size(), 1000u);
  std::map<std::tuple<int64_t, int64_t, int, std::string, uint32_t>, Image> sources;
  std::map<int, int> checked_per_filter;
  int failures = 0;
  for (const auto& row : cases) {
    const auto key = std::make_tuple(row[0].get<int64_t>(), row[1].get<int64_t>(), row[2].get<int>(),
                                     row[3].get<std::string>(), row[4].get<uint32_t>());
    auto source = sources.find(key);
    if (source == sources.end()) {
      const auto& [width, height, channels, pattern, seed] = key;
      source = sources.emplace(key, pattern_image(width, height, channels, pattern, seed)).first;
    }
    const int filter = row[5].get<int>();
    const Image out = image::resize(source->second, row[6].get<int64_t>(), row[7].get<int64_t>(),
                                    static_cast<Resample>(filter));
    ASSERT_EQ(out.pixels.size(), size_t(row[6].get<int64_t>() * row[7].get<int64_t>() * row[2].get<int>()));
    ++checked_per_filter[filter];
    if (stored_form(out.pixels.data(), out.pixels.size()) != row[8].get<std::string>() && ++failures <= 10) {
      ADD_FAILURE() << row.dump() << ": " << filter_name(filter) << " gave "
                    << stored_form(out.pixels.data(), out.pixels.size());
    }
  }
  EXPECT_EQ(failures, 0) << "of " << cases.size() << " cases";
  EXPECT_EQ(checked_per_filter.size(), size_t(image::kResampleFilters));
}

TEST(ImageResize, SameSizeIsACopyWhateverTheFilter) {
  const Image src = pattern_image(7, 5, 4, "noise", 3);
  for (int filter = 0; filter < image::kResampleFilters; ++filter) {
    EXPECT_EQ(image::resize(src, 7, 5, static_cast<Resample>(filter)).pixels, src.pixels) << filter;
  }
}

TEST(ImageResize, RefusesSizesOutsideTheBounds) {
  const Image src = pattern_image(4, 3, 3, "noise", 1);
  for (auto [width, height] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 3}, {3, 0}, {-1, 3}, {3, -7}, {image::kMaxImageSide + 1, 1}, {1, int64_t(1e9)}}) {
    try {
      image::resize(src, width, height, Resample::Bilinear);
      ADD_FAILURE() << width << "x" << height << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("target size"), std::string::npos) << e.what();
    }
  }
  // Each side within bounds, the image not.
  EXPECT_THROW(image::resize(src, 1 << 15, 1 << 14, Resample::Nearest), Error);
  Image empty;
  EXPECT_THROW(image::resize(empty, 2, 2, Resample::Bilinear), Error);
}

TEST(ImageResize, RefusesAnIntermediateImageOverTheBound) {
  // Each image is within bounds, but the horizontally resized rows (2^20 x 2^9) are not.
  Image tall(1, 1 << 9, 1);
  EXPECT_THROW(image::resize(tall, image::kMaxImageSide, 1, Resample::Box), Error);
}

TEST(ImageResize, RefusesMalformedImagesAndFilters) {
  Image no_channels(2, 2, 1);
  no_channels.channels = 0;
  EXPECT_THROW(image::resize(no_channels, 3, 3, Resample::Bilinear), Error);
  Image five_channels(2, 2, 5);
  EXPECT_THROW(image::resize(five_channels, 3, 3, Resample::Bilinear), Error);
  Image short_buffer(2, 2, 3);
  short_buffer.pixels.pop_back();
  EXPECT_THROW(image::resize(short_buffer, 3, 3, Resample::Bilinear), Error);
  const Image src(2, 2, 3);
  EXPECT_THROW(image::resize(src, 3, 3, static_cast<Resample>(6)), Error);
  EXPECT_THROW(image::resize(src, 3, 3, static_cast<Resample>(-1)), Error);
}
