// The vision pipelines end to end, from image files: ViTImageProcessor's
// pixel_values for the fixtures' photos (decoded as PIL decodes them),
// classification, features and ViT-MAE generation, and `tformer image`.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "tformer/image/decode.h"
#include "tformer/image/vit_image_processor.h"
#include "tformer/io/safetensors.h"
#include "tformer/pipelines/image_classification.h"
#include "tformer/pipelines/masked_image_generation.h"

namespace tformer {
namespace {

namespace fs = std::filesystem;
using namespace testing;

fs::path photo(const char* name) { return shared_dir() / "images" / name; }
std::vector<fs::path> fixture_photos() { return {photo("chelsea.png"), photo("rocket.jpg")}; }

TEST(VisionPipelines, PixelValuesMatchTransformers) {
  const fs::path dir = fixtures_dir() / "vit-tiny";
  const std::vector<image::Image> images = {image::load_image(photo("chelsea.png")),
                                            image::load_image(photo("rocket.jpg"))};
  for (const auto& [config, expected] : {std::pair{"preprocessor_config.json", "expected.safetensors"},
                                         std::pair{"preprocessor_config_224.json", "expected_224.safetensors"}}) {
    const Tensor pixels = image::ViTImageProcessor::from_file(dir / config).preprocess(images);
    expect_close(pixels.to_vector(), io::SafetensorsFile::open(dir / expected)->load("pixel_values").to_vector(), 0,
                 1e-5, config);
  }
}

TEST(VisionPipelines, ClassifiesAndEmbedsFiles) {
  const fs::path dir = fixtures_dir() / "vit-tiny";
  const auto expected = io::SafetensorsFile::open(dir / "expected.safetensors");
  const std::vector<float> logits = expected->load("logits").to_vector();
  const auto classify = pipelines::ImageClassificationPipeline::from_pretrained(dir);
  for (size_t batch : {1, 2}) {
    const auto results = classify(fixture_photos(), 2, batch);
    ASSERT_EQ(results.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      expect_close(results[i].logits, {logits.begin() + 3 * i, logits.begin() + 3 * i + 3}, 1e-4, 1e-5, "logits");
      EXPECT_EQ(results[i].label, "bird");  // fixture logits: bird highest for both photos
      ASSERT_EQ(results[i].top_k.size(), 2u);
      EXPECT_EQ(results[i].top_k[1].first, "dog");
      EXPECT_GT(results[i].score, results[i].top_k[1].second);
    }
  }
  const auto features = pipelines::ImageFeaturesPipeline::from_pretrained(dir)(fixture_photos());
  const std::vector<float> hidden = expected->load("last_hidden_state").to_vector();  // [2][17][32]
  for (size_t i = 0; i < 2; ++i) {
    const size_t image = i * 17 * 32;
    expect_close(features[i].cls, {hidden.begin() + image, hidden.begin() + image + 32}, 1e-4, 1e-5, "cls");
    std::vector<float> mean(32, 0.0f);
    for (size_t s = 1; s < 17; ++s)
      for (size_t c = 0; c < 32; ++c) mean[c] += hidden[image + s * 32 + c] / 16;
    expect_close(features[i].mean, mean, 1e-4, 1e-5, "mean");
  }
}

TEST(VisionPipelines, MaskedImageGenerationMatchesTheFixture) {
  const fs::path dir = fixtures_dir() / "vit-mae-tiny";
  const auto expected = io::SafetensorsFile::open(dir / "expected.safetensors");
  const auto pipe = pipelines::MaskedImageGenerationPipeline::from_pretrained(dir);
  const std::vector<float> noise = expected->load("noise").to_vector();
  const Tensor chelsea_noise = Tensor::from_vector({noise.begin(), noise.begin() + 16}, {1, 16});
  const pipelines::MaskedImageGeneration g = pipe(image::load_image(photo("chelsea.png")), chelsea_noise);
  const std::vector<float> logits = expected->load("logits").to_vector();
  expect_close(g.logits.to_vector(), {logits.begin(), logits.begin() + 16 * 192}, 1e-4, 1e-5, "logits");
  const std::vector<float> mask = expected->load("mask").to_vector();
  EXPECT_EQ(g.mask.to_vector(), std::vector<float>(mask.begin(), mask.begin() + 16));
  EXPECT_EQ(g.original.width, 32);
  // The pasted panel is the original where visible, the reconstruction where masked.
  for (int64_t p = 0; p < 16; ++p) {
    const int64_t x = (p % 4) * 8 + 3, y = (p / 4) * 8 + 5;
    const image::Image& from = g.mask.data<float>()[p] != 0 ? g.reconstruction : g.original;
    for (int c = 0; c < 3; ++c) EXPECT_EQ(g.pasted.at(x, y, c), from.at(x, y, c)) << "patch " << p;
  }
  const image::Image grid = pipelines::side_by_side({&g.original, &g.masked, &g.reconstruction, &g.pasted}, 7, 8);
  EXPECT_EQ(grid.width, 4 * 32 * 7 + 3 * 8);
  EXPECT_EQ(grid.height, 32 * 7);
}

class ImageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / "tformer_test_image_cli";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ImageCli, ClassifyAndFeaturesJson) {
  const std::string model = (fixtures_dir() / "vit-tiny").string();
  const CommandResult r = run_command(cli() + " image classify --model '" + model + "' --top-k 3 --json '" +
                                      photo("chelsea.png").string() + "' '" + photo("rocket.jpg").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_EQ(j["label"], "bird");
    EXPECT_EQ(j["top_k"].size(), 3u);
    EXPECT_EQ(j["logits"].size(), 3u);
    EXPECT_NE(j["image"].get<std::string>().find(count == 0 ? "chelsea" : "rocket"), std::string::npos);
    ++count;
  }
  EXPECT_EQ(count, 2);
  const CommandResult f = run_command(cli() + " image features --json --model '" + model + "' '" +
                                      photo("coffee.png").string() + "'");
  ASSERT_EQ(f.exit_code, 0) << f.output;
  const nlohmann::json j = nlohmann::json::parse(f.output);
  EXPECT_EQ(j["cls"].size(), 32u);
  EXPECT_EQ(j["mean"].size(), 32u);
}

TEST_F(ImageCli, GenerateWithNoiseDumpsWhatTheModelComputed) {
  const fs::path fixture = fixtures_dir() / "vit-mae-tiny";
  const auto expected = io::SafetensorsFile::open(fixture / "expected.safetensors");
  const std::vector<float> noise = expected->load("noise").to_vector();
  io::save_safetensors(dir_ / "noise.safetensors",
                       {{"noise", Tensor::from_vector({noise.begin(), noise.begin() + 16}, {1, 16})}});
  const std::string base = cli() + " image generate '" + photo("chelsea.png").string() + "' --model '" +
                           fixture.string() + "' --noise '" + (dir_ / "noise.safetensors").string() + "'";
  const CommandResult r = run_command(base + " --grid -o '" + (dir_ / "grid.png").string() + "' --dump '" +
                                      (dir_ / "dump.safetensors").string() + "' 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const image::Image grid = image::load_image(dir_ / "grid.png");
  EXPECT_EQ(grid.height, 32 * 7);  // enlarged to at least 224 pixels
  EXPECT_EQ(grid.width, 4 * 32 * 7 + 3 * 8);
  const auto dump = io::SafetensorsFile::open(dir_ / "dump.safetensors");
  const std::vector<float> mask = expected->load("mask").to_vector();
  EXPECT_EQ(dump->load("mask").to_vector(), std::vector<float>(mask.begin(), mask.begin() + 16));
  const std::vector<float> reconstruction = expected->load("reconstruction").to_vector();
  expect_close(dump->load("reconstruction").to_vector(),
               {reconstruction.begin(), reconstruction.begin() + 3 * 32 * 32}, 1e-4, 1e-5, "reconstruction");
  for (const char* name : {"pixel_values", "noise", "ids_restore", "logits", "loss"})
    EXPECT_NO_THROW(dump->load(name)) << name;

  const CommandResult plain = run_command(base + " -o '" + (dir_ / "out.jpg").string() + "' 2>&1");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_EQ(image::load_image(dir_ / "out.jpg").width, 32);
}

TEST_F(ImageCli, BadInputsAreClearErrors) {
  const std::string mae = (fixtures_dir() / "vit-mae-tiny").string();
  io::save_safetensors(dir_ / "short.safetensors", {{"noise", Tensor::zeros({1, 15})}});
  { std::ofstream(dir_ / "not_an_image.png") << "hello"; }
  const std::pair<std::string, std::string> cases[] = {
      {" image classify '" + photo("chelsea.png").string() + "'", "--model"},
      {" image generate '" + (dir_ / "missing.png").string() + "' --model '" + mae + "'", "missing.png"},
      {" image generate '" + (dir_ / "not_an_image.png").string() + "' --model '" + mae + "'", "not_an_image.png"},
      {" image generate '" + photo("chelsea.png").string() + "' --model '" + mae + "' --noise '" +
           (dir_ / "short.safetensors").string() + "'",
       "noise"},
      {" image generate '" + photo("chelsea.png").string() + "' --model '" + mae + "' --seed 1 -o '" +
           (dir_ / "x.gif").string() + "'",
       "x.gif"},
      {" image generate '" + photo("chelsea.png").string() + "' --model '" + mae + "' --mask-ratio 1.5", "mask"},
  };
  for (const auto& [args, needle] : cases) {
    const CommandResult r = run_command(cli() + args + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(needle), std::string::npos) << args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace tformer
