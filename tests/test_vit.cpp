// ViTModel / ViTForImageClassification against ../shared/fixtures/vit-tiny
// (transformers 4.43.4), and interpolate_pos_encoding against
// tests/data/vit/ (tools/make_vit_fixtures.py, the same model in PyTorch at
// other image sizes).
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/io/safetensors.h"
#include "tformer/models/vit.h"

namespace tformer {
namespace {

namespace fs = std::filesystem;
using namespace testing;

fs::path vit_tiny() { return fixtures_dir() / "vit-tiny"; }

std::vector<float> row_range(const Tensor& t, int64_t row, int64_t rows) {
  const int64_t width = t.numel() / t.dim(0);
  std::vector<float> all = t.to_vector();
  return {all.begin() + row * width, all.begin() + (row + rows) * width};
}

TEST(ViT, MatchesTransformersBatched) {
  const auto model = models::ViTForImageClassification::from_pretrained(vit_tiny());
  const auto expected = io::SafetensorsFile::open(vit_tiny() / "expected.safetensors");
  Tensor hidden;
  const Tensor logits = model.forward(expected->load("pixel_values"), false, &hidden);
  ASSERT_EQ(logits.shape(), Shape({2, 3}));
  expect_close(logits.to_vector(), expected->load("logits").to_vector(), 1e-4, 1e-5, "logits");
  expect_close(hidden.to_vector(), expected->load("last_hidden_state").to_vector(), 1e-4, 1e-5,
               "last_hidden_state");
  EXPECT_EQ(model.config().id2label, (std::vector<std::string>{"cat", "dog", "bird"}));
}

TEST(ViT, EachImageAloneMatchesTheBatch) {
  const auto model = models::ViTForImageClassification::from_pretrained(vit_tiny());
  const auto expected = io::SafetensorsFile::open(vit_tiny() / "expected.safetensors");
  const Tensor pixels = expected->load("pixel_values"), logits = expected->load("logits");
  for (int64_t b = 0; b < 2; ++b) {
    const Tensor one = Tensor::from_vector(row_range(pixels, b, 1), {1, 3, 32, 32});
    expect_close(model.forward(one).to_vector(), row_range(logits, b, 1), 1e-4, 1e-5, "image " + std::to_string(b));
  }
}

TEST(ViT, Bf16AndInt8StayCloseToFp32) {
  auto model = models::ViTForImageClassification::from_pretrained(vit_tiny());
  const auto expected = io::SafetensorsFile::open(vit_tiny() / "expected.safetensors");
  const Tensor pixels = expected->load("pixel_values");
  const std::vector<float> reference = expected->load("logits").to_vector();
  for (kernels::GemmFormat f : {kernels::GemmFormat::BF16, kernels::GemmFormat::INT8}) {
    model.set_weight_format(f);
    expect_close(model.forward(pixels).to_vector(), reference, 0.05, 0.05, "reduced precision");
  }
}

TEST(ViT, RefusesOtherSizesWithoutInterpolation) {
  const auto model = models::ViTForImageClassification::from_pretrained(vit_tiny());
  const Tensor pixels = Tensor::zeros({1, 3, 48, 48});
  EXPECT_THROW(model.forward(pixels), Error);
  const Tensor grey = Tensor::zeros({1, 1, 32, 32});
  EXPECT_THROW(model.forward(grey, true), Error);
  const Tensor tiny = Tensor::zeros({1, 3, 4, 4});  // no whole patch
  EXPECT_THROW(model.forward(tiny, true), Error);
}

TEST(ViT, InterpolatedPositionsMatchPyTorch) {
  const fs::path data = source_dir() / "tests" / "data" / "vit";
  const auto model = models::ViTForImageClassification::from_pretrained(vit_tiny());
  for (const char* name : {"interpolate_48x48", "interpolate_40x64", "interpolate_32x32"}) {
    const auto expected = io::SafetensorsFile::open(data / (std::string(name) + ".safetensors"));
    Tensor hidden;
    const Tensor logits = model.forward(expected->load("pixel_values"), true, &hidden);
    expect_close(logits.to_vector(), expected->load("logits").to_vector(), 1e-4, 1e-5, name);
    expect_close(hidden.to_vector(), expected->load("last_hidden_state").to_vector(), 1e-4, 1e-5, name);
  }
}

TEST(ViT, ConfigErrorsNameTheField) {
  const nlohmann::json base = load_json(vit_tiny() / "config.json");
  auto error_of = [&](const char* key, nlohmann::json value) {
    nlohmann::json j = base;
    j[key] = value;
    try {
      models::ViTConfig::from_json(j, "cfg.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("hidden_size", 33).find("num_attention_heads"), std::string::npos);
  EXPECT_NE(error_of("patch_size", 64).find("patch_size"), std::string::npos);
  EXPECT_NE(error_of("image_size", int64_t(1) << 40).find("image_size"), std::string::npos);
  EXPECT_NE(error_of("hidden_act", "swish2").find("swish2"), std::string::npos);
  EXPECT_NE(error_of("layer_norm_eps", "small").find("layer_norm_eps"), std::string::npos);
  EXPECT_NE(error_of("num_channels", 0).find("num_channels"), std::string::npos);
}

}  // namespace
}  // namespace tformer
