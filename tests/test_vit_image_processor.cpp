// ViTImageProcessor against transformers 4.43's arithmetic (tests/data/resize/vit_image_processor.json,
// written by tools/make_resize_fixtures.py, whose numpy pipeline reproduces the shared vit-tiny
// fixtures' pixel_values bit for bit), the shared fixtures' configs, and the refusals.
#include <gtest/gtest.h>

#include <fstream>

#include "image_test_support.h"
#include "tformer/core/error.h"
#include "tformer/image/vit_image_processor.h"
#include "test_util.h"

using namespace tformer;
using image::Image;
using image::Resample;
using image::ViTImageProcessor;
using tformer::testing::pattern_image;

namespace {

ViTImageProcessor parse(const std::string& text) {
  return ViTImageProcessor::from_json(nlohmann::json::parse(text), "cfg.json");
}

// The message of the Error that parsing `text` throws, or "" when it parses.
std::string parse_error(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ViTImageProcessor, MatchesTransformersOnTheFixtureCases) {
  const auto cases = tformer::testing::load_json(tformer::testing::resize_data_dir() / "vit_image_processor.json");
  ASSERT_GE(cases.size(), 7u);
  for (const auto& entry : cases) {
    const std::string name = entry["name"].get<std::string>();
    const ViTImageProcessor processor = ViTImageProcessor::from_json(entry["config"], name);
    std::vector<Image> images;
    for (const auto& spec : entry["images"]) {
      images.push_back(pattern_image(spec[0].get<int64_t>(), spec[1].get<int64_t>(), 3, spec[2].get<std::string>(),
                                     spec[3].get<uint32_t>()));
    }
    const Tensor pixel_values = processor.preprocess(images);
    EXPECT_EQ(pixel_values.shape().to_vector(), entry["shape"].get<std::vector<int64_t>>()) << name;
    const float* values = pixel_values.data<float>();
    const auto first = entry["first_values"].get<std::vector<float>>();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(values[i], first[i]) << name << ": value " << i;
    EXPECT_EQ(tformer::testing::stored_form(values, pixel_values.nbytes()), entry["pixel_values"].get<std::string>())
        << name;
  }
}

TEST(ViTImageProcessor, ReadsTheSharedFixtureConfigs) {
  const auto dir = tformer::testing::fixtures_dir();
  const auto tiny = ViTImageProcessor::from_file(dir / "vit-tiny" / "preprocessor_config.json");
  EXPECT_TRUE(tiny.do_resize && tiny.do_rescale && tiny.do_normalize);
  EXPECT_EQ(tiny.height, 32);
  EXPECT_EQ(tiny.width, 32);
  EXPECT_EQ(tiny.resample, Resample::Bilinear);
  EXPECT_EQ(tiny.rescale_factor, 0.00392156862745098);
  EXPECT_EQ(tiny.image_mean, (std::array<double, 3>{0.5, 0.5, 0.5}));
  EXPECT_EQ(tiny.image_std, (std::array<double, 3>{0.5, 0.5, 0.5}));
  for (const auto& path : {dir / "vit-tiny" / "preprocessor_config_224.json",
                           dir / "vit-mae-tiny" / "preprocessor_config.json"}) {
    const auto imagenet = ViTImageProcessor::from_file(path);
    EXPECT_EQ(imagenet.image_mean, (std::array<double, 3>{0.485, 0.456, 0.406})) << path;
    EXPECT_EQ(imagenet.image_std, (std::array<double, 3>{0.229, 0.224, 0.225})) << path;
    EXPECT_EQ(imagenet.height, path.parent_path().filename() == "vit-tiny" ? 224 : 32) << path;
  }
}

TEST(ViTImageProcessor, DefaultsAreTransformers) {
  for (const char* text : {R"({})", R"({"size": null, "resample": null, "image_mean": null, "image_std": null})"}) {
    const ViTImageProcessor processor = parse(text);
    EXPECT_TRUE(processor.do_resize && processor.do_rescale && processor.do_normalize) << text;
    EXPECT_EQ(processor.height, 224) << text;
    EXPECT_EQ(processor.width, 224) << text;
    EXPECT_EQ(processor.resample, Resample::Bilinear) << text;
    EXPECT_EQ(processor.rescale_factor, 1.0 / 255) << text;
    EXPECT_EQ(processor.image_mean, (std::array<double, 3>{0.5, 0.5, 0.5})) << text;
  }
  EXPECT_EQ(parse(R"({"size": [20, 30]})").width, 30);
  EXPECT_EQ(parse(R"({"size": 48})").width, 48);
  EXPECT_EQ(parse(R"({"image_std": 2})").image_std, (std::array<double, 3>{2, 2, 2}));
  EXPECT_EQ(parse(R"({"feature_extractor_type": "ViTFeatureExtractor", "resample": 5})").resample, Resample::Hamming);
}

TEST(ViTImageProcessor, NullStepFlagsTurnTheStepOffAsNoneDoes) {
  const ViTImageProcessor processor = parse(R"({"do_resize": null, "do_rescale": null, "do_normalize": null,
                                                "rescale_factor": null})");
  EXPECT_FALSE(processor.do_resize || processor.do_rescale || processor.do_normalize);
  EXPECT_NE(parse_error(R"({"rescale_factor": null})").find("'rescale_factor' is null, and do_rescale is on"),
            std::string::npos);
}

TEST(ViTImageProcessor, RefusesBadConfigsNamingTheFileAndField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([])", "expected a JSON object"},
      {R"({"image_processor_type": "CLIPImageProcessor"})", "'image_processor_type' is \"CLIPImageProcessor\""},
      {R"({"feature_extractor_type": 3})", "'feature_extractor_type' has the wrong type"},
      {R"({"do_resize": "yes"})", "'do_resize' has the wrong type"},
      {R"({"do_normalize": 1})", "'do_normalize' has the wrong type"},
      {R"({"size": {"shortest_edge": 224}})", "field 'size' must be {\"height\": H, \"width\": W}"},
      {R"({"size": {"height": 32}})", "field 'size' must be"},
      {R"({"size": {"height": 32, "width": 32, "depth": 3}})", "field 'size' must be"},
      {R"({"size": "224"})", "field 'size' must be"},
      {R"({"size": [1, 2, 3]})", "'size' as a list must be [height, width]"},
      {R"({"size": {"height": 1000000000, "width": 32}})", "'size' 'height': expected an integer in [1, 8192]"},
      {R"({"size": {"height": 32, "width": -5}})", "'size' 'width': expected an integer in [1, 8192]"},
      {R"({"size": {"height": 32.5, "width": 32}})", "'size' 'height': expected an integer"},
      {R"({"size": 0})", "field 'size': expected an integer in [1, 8192]"},
      {R"({"size": [32, null]})", "'size' (width): expected an integer"},
      {R"({"resample": 6})", "field 'resample': expected an integer in [0, 5]"},
      {R"({"resample": -1})", "field 'resample': expected an integer in [0, 5]"},
      {R"({"resample": "bilinear"})", "field 'resample': expected an integer"},
      {R"({"rescale_factor": "0.5"})", "'rescale_factor' has the wrong type"},
      {R"({"rescale_factor": 0})", "'rescale_factor' must be a positive number"},
      {R"({"rescale_factor": -0.5})", "'rescale_factor' must be a positive number"},
      {R"({"image_mean": [0.5, 0.5]})", "'image_mean' must be a list of 3 numbers"},
      {R"({"image_mean": [0.5, 0.5, 0.5, 0.5]})", "'image_mean' must be a list of 3 numbers"},
      {R"({"image_mean": [0.5, "0.5", 0.5]})", "'image_mean' must hold numbers"},
      {R"({"image_std": {"r": 1}})", "'image_std' must be a list of 3 numbers"},
      {R"({"image_std": [0.5, 0, 0.5]})", "'image_std' must hold finite, non-zero numbers"},
      {R"({"image_std": 0})", "'image_std' must hold finite, non-zero numbers"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = parse_error(text);
    EXPECT_EQ(message.rfind("cfg.json: ", 0), 0u) << text << " -> " << message;
    EXPECT_NE(message.find(expected), std::string::npos) << text << " -> " << message;
  }
}

TEST(ViTImageProcessor, ReadingAMissingOrBrokenFileNamesIt) {
  const auto dir = std::filesystem::temp_directory_path() / "tformer_vit_image_processor_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "preprocessor_config.json";
  std::ofstream(path) << "{\"size\": ";
  try {
    ViTImageProcessor::from_file(path);
    ADD_FAILURE() << "a truncated config was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ": invalid JSON"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
  EXPECT_THROW(ViTImageProcessor::from_file(dir / "preprocessor_config.json"), Error);
}

TEST(ViTImageProcessor, RefusesImagesItCannotTakeNamingThem) {
  const ViTImageProcessor processor = parse(R"({"size": 4})");
  EXPECT_THROW(processor.preprocess({}), Error);
  const Image rgb = pattern_image(5, 6, 3, "noise", 1);
  for (int channels : {1, 2, 4}) {
    try {
      processor.preprocess({rgb, pattern_image(5, 6, channels, "noise", 2)});
      ADD_FAILURE() << channels << " channels accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("image 1 has " + std::to_string(channels) + " channels"),
                std::string::npos)
          << e.what();
    }
  }
  Image short_buffer = rgb;
  short_buffer.pixels.pop_back();
  EXPECT_THROW(processor.preprocess({short_buffer}), Error);

  const ViTImageProcessor no_resize = parse(R"({"do_resize": false})");
  EXPECT_EQ(no_resize.preprocess({rgb, rgb}).shape(), Shape({2, 3, 6, 5}));
  try {
    no_resize.preprocess({rgb, pattern_image(6, 5, 3, "noise", 3)});
    ADD_FAILURE() << "images of two sizes accepted without do_resize";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image 1 is 6x5 and image 0 5x6"), std::string::npos) << e.what();
  }
}
