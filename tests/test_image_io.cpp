// PNG and JPEG decoding against PIL 9.4 (tests/data/images/, written by
// tools/make_image_fixtures.py: what transformers' load_image gives, i.e.
// np.asarray(ImageOps.exif_transpose(Image.open(f)).convert("RGB"))), the
// EXIF orientation reader, hostile files, and the encoders.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/image/decode.h"
#include "tformer/image/encode.h"
#include "tformer/image/exif.h"

namespace tformer {
namespace {

namespace fs = std::filesystem;
using namespace testing;

fs::path data_dir() { return source_dir() / "tests" / "data" / "images"; }
const nlohmann::json& expected() {
  static const nlohmann::json j = load_json(data_dir() / "expected.json");
  return j;
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint64_t fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

std::string hex64(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ImageIO, SharedPhotosMatchPil) {
  ASSERT_EQ(expected()["shared"].size(), 7u);
  for (const auto& c : expected()["shared"]) {
    const std::string file = c["file"];
    const image::Image img = image::load_image(shared_dir() / "images" / file);
    EXPECT_EQ(img.width, c["width"].get<int64_t>()) << file;
    EXPECT_EQ(img.height, c["height"].get<int64_t>()) << file;
    ASSERT_EQ(img.channels, 3) << file;
    EXPECT_EQ(hex64(fnv1a64(img.pixels)), c["fnv1a64"].get<std::string>()) << file;
    for (const auto& p : c["pixels"])
      for (int ch = 0; ch < 3; ++ch)
        EXPECT_EQ(img.at(p[0].get<int64_t>(), p[1].get<int64_t>(), ch), p[2 + ch].get<int>()) << file;
  }
}

TEST(ImageIO, GeneratedImagesMatchPil) {
  ASSERT_GE(expected()["generated"].size(), 60u);
  for (const auto& c : expected()["generated"]) {
    const std::string file = c["file"];
    const image::Image img = image::load_image(data_dir() / file);
    EXPECT_EQ(img.width, c["width"].get<int64_t>()) << file << ": " << c["what"];
    EXPECT_EQ(img.height, c["height"].get<int64_t>()) << file;
    const fs::path rgb_file = data_dir() / "expected" / (fs::path(file).filename().string() + ".rgb");
    const std::vector<uint8_t> rgb = read_bytes(rgb_file);
    EXPECT_EQ(img.pixels, rgb) << file << ": " << c["what"];
  }
}

TEST(ImageIO, RefusesWhatPilRefuses) {
  ASSERT_GE(expected()["refused"].size(), 8u);
  for (const auto& c : expected()["refused"]) {
    const std::string file = c["file"];
    const std::string message = error_of([&] { image::load_image(data_dir() / file); });
    EXPECT_FALSE(message.empty()) << file << " decoded; PIL says " << c["pil"];
    EXPECT_NE(message.find(fs::path(file).filename().string()), std::string::npos) << message;
  }
}

TEST(ImageIO, ExifOrientationAsPilReadsIt) {
  ASSERT_GE(expected()["exif"].size(), 100u);
  for (const auto& c : expected()["exif"]) {
    const std::string hex = c["tiff"];
    std::vector<uint8_t> tiff;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      tiff.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    const std::optional<int> got = image::exif_orientation(tiff);
    EXPECT_EQ(got.has_value(), c["present"].get<bool>()) << c["name"];
    if (got) {
      EXPECT_EQ(*got, c["orientation"].get<int>()) << c["name"];
    }
  }
}

uint32_t crc32(const uint8_t* data, size_t n) {
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

void put_be32(uint8_t* at, uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// A real 19 × 11 PNG whose IHDR (CRC recomputed) claims `w` × `h`.
std::vector<uint8_t> png_claiming(uint32_t w, uint32_t h) {
  std::vector<uint8_t> b = read_bytes(data_dir() / "png" / "rgb8.png");
  put_be32(b.data() + 16, w);
  put_be32(b.data() + 20, h);
  put_be32(b.data() + 29, crc32(b.data() + 12, 17));
  return b;
}

// A baseline JPEG header (SOI, SOF0) claiming `w` × `h` with three components.
std::vector<uint8_t> jpeg_header(uint16_t w, uint16_t h) {
  return {0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h),
          static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1};
}

TEST(ImageIO, HostileInputsAreClearErrors) {
  auto decode_error = [](const std::vector<uint8_t>& bytes) {
    return error_of([&] { image::decode_image(bytes.data(), bytes.size(), "hostile.bin"); });
  };
  std::vector<uint8_t> cut = png_claiming(19, 11);
  cut.resize(20);  // IHDR cut short
  for (const std::vector<uint8_t>& bytes :
       {std::vector<uint8_t>{}, std::vector<uint8_t>{'G', 'I', 'F', '8', '9', 'a'}, png_claiming(100000, 100000),
        png_claiming(0, 5), jpeg_header(65000, 65000), jpeg_header(0, 10),
        cut}) {
    const std::string message = decode_error(bytes);
    EXPECT_FALSE(message.empty()) << bytes.size() << " bytes decoded";
    EXPECT_EQ(message.rfind("hostile.bin", 0), 0u) << message;
  }
  EXPECT_NE(decode_error(png_claiming(100000, 100000)).find("100000"), std::string::npos);
  EXPECT_FALSE(error_of([] { image::load_image("/nonexistent/cat.png"); }).empty());
}

// Found by fuzz_png_decode: a 690-byte file whose zTXt chunk claims 1.7 GB,
// which libpng allocated before finding the file too short.
TEST(ImageIO, ChunkLengthsPastTheEndAreRefusedBeforeAllocating) {
  const std::string message = error_of([] { image::load_image(data_dir() / "hostile" / "ztxt_claims_1.7_GB.png"); });
  EXPECT_NE(message.find("ztxt_claims_1.7_GB.png"), std::string::npos) << message;
  EXPECT_NE(message.find("zTXt"), std::string::npos) << message;
  // And one after the image data, read by png_read_end, claiming 1.8 GB: the
  // decode may keep the rows (PIL checks nothing past the image data) but
  // must not allocate the claim.
  const fs::path after = data_dir() / "hostile" / "chunk_after_image_claims_1.8_GB.png";
  const std::string tail_message = error_of([&] { image::load_image(after); });
  if (!tail_message.empty()) EXPECT_NE(tail_message.find(after.filename().string()), std::string::npos);
}

TEST(ImageIO, PngRoundTripIsExactAndAtomic) {
  const fs::path dir = fs::temp_directory_path() / "tformer_test_image_io";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const image::Image cat = image::load_image(shared_dir() / "images" / "chelsea.png");
  const fs::path out = dir / "cat.png";
  { std::ofstream(out) << "an older file"; }
  image::save_image(cat, out);
  EXPECT_EQ(image::load_image(out).pixels, cat.pixels);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
  for (int channels : {1, 4}) {
    image::Image img(5, 3, channels);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>(i * 17);
    image::save_png(img, dir / "small.png");
    const image::Image back = image::load_image(dir / "small.png");
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 5; ++x) EXPECT_EQ(back.at(x, y, 0), img.at(x, y, 0));  // grey replicated, alpha dropped
  }
  fs::remove_all(dir);
}

TEST(ImageIO, JpegRoundTripIsClose) {
  const fs::path out = fs::temp_directory_path() / "tformer_test_cat.jpg";
  const image::Image cat = image::load_image(shared_dir() / "images" / "chelsea.png");
  image::save_image(cat, out);
  const image::Image back = image::load_image(out);
  ASSERT_EQ(back.pixels.size(), cat.pixels.size());
  double error = 0;
  for (size_t i = 0; i < cat.pixels.size(); ++i) error += std::abs(int(back.pixels[i]) - int(cat.pixels[i]));
  EXPECT_LT(error / static_cast<double>(cat.pixels.size()), 3.0);  // quality 95
  fs::remove(out);
  EXPECT_FALSE(error_of([&] { image::save_image(cat, fs::temp_directory_path() / "cat.gif"); }).empty());
}

}  // namespace
}  // namespace tformer
