// ViTMAEForPreTraining against ../shared/fixtures/vit-mae-tiny and
// vit-mae-tiny-normpix (transformers 4.43.4, masking noise given).
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/io/safetensors.h"
#include "tformer/models/vit_mae.h"

namespace tformer {
namespace {

namespace fs = std::filesystem;
using namespace testing;

std::vector<float> as_floats(const Tensor& t) {
  if (t.dtype() == DType::F32) return t.to_vector();
  std::vector<float> out;
  const Tensor c = t.contiguous();
  for (int64_t i = 0; i < c.numel(); ++i) out.push_back(static_cast<float>(c.data<int64_t>()[i]));
  return out;
}

void expect_matches_fixture(const std::string& name) {
  const fs::path dir = fixtures_dir() / name;
  const auto model = models::ViTMAEForPreTraining::from_pretrained(dir);
  const auto expected = io::SafetensorsFile::open(dir / "expected.safetensors");
  const Tensor pixels = expected->load("pixel_values");
  const models::ViTMAEOutput out = model.forward(pixels, expected->load("noise"));
  EXPECT_EQ(as_floats(out.mask), expected->load("mask").to_vector()) << name;
  EXPECT_EQ(as_floats(out.ids_restore), as_floats(expected->load("ids_restore"))) << name;
  expect_close(out.logits.to_vector(), expected->load("logits").to_vector(), 1e-4, 1e-5, name + " logits");
  expect_close({out.loss}, expected->load("loss").to_vector(), 1e-4, 1e-6, name + " loss");
  expect_close(model.unpatchify(out.logits).to_vector(), expected->load("reconstruction").to_vector(), 1e-4, 1e-5,
               name + " reconstruction");
  EXPECT_EQ(model.patchify(pixels).to_vector(), expected->load("patchified_pixel_values").to_vector()) << name;
}

TEST(ViTMAE, MatchesTransformers) { expect_matches_fixture("vit-mae-tiny"); }
TEST(ViTMAE, NormPixLossMatchesTransformers) { expect_matches_fixture("vit-mae-tiny-normpix"); }

TEST(ViTMAE, FixtureCheckNumbers) {
  const fs::path dir = fixtures_dir() / "vit-mae-tiny";
  const auto model = models::ViTMAEForPreTraining::from_pretrained(dir);
  const auto expected = io::SafetensorsFile::open(dir / "expected.safetensors");
  const models::ViTMAEOutput out = model.forward(expected->load("pixel_values"), expected->load("noise"));
  EXPECT_NEAR(out.loss, 1.488679, 1e-5);
  const std::vector<float> mask0 = {1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1};
  const std::vector<float> mask = out.mask.to_vector();
  EXPECT_EQ(std::vector<float>(mask.begin(), mask.begin() + 16), mask0);
  EXPECT_EQ(out.last_hidden_state.shape(), Shape({2, 5, 32}));  // [CLS] + 16 · 0.25 kept
}

TEST(ViTMAE, EachImageAloneMatchesTheBatch) {
  const fs::path dir = fixtures_dir() / "vit-mae-tiny";
  const auto model = models::ViTMAEForPreTraining::from_pretrained(dir);
  const auto expected = io::SafetensorsFile::open(dir / "expected.safetensors");
  const std::vector<float> pixels = expected->load("pixel_values").to_vector();
  const std::vector<float> noise = expected->load("noise").to_vector(), logits = expected->load("logits").to_vector();
  // Image b's part of a [2, ...] tensor's values, `size` values an image.
  auto part = [](const std::vector<float>& all, size_t b, size_t size) {
    return std::vector<float>(all.begin() + b * size, all.begin() + (b + 1) * size);
  };
  for (size_t b = 0; b < 2; ++b) {
    const Tensor one = Tensor::from_vector(part(pixels, b, 3 * 32 * 32), {1, 3, 32, 32});
    const Tensor one_noise = Tensor::from_vector(part(noise, b, 16), {1, 16});
    expect_close(model.forward(one, one_noise).logits.to_vector(), part(logits, b, 16 * 192), 1e-4, 1e-5,
                 "image " + std::to_string(b));
  }
}

TEST(ViTMAE, UnpatchifyInvertsPatchify) {
  const auto model = models::ViTMAEForPreTraining::from_pretrained(fixtures_dir() / "vit-mae-tiny");
  const auto expected = io::SafetensorsFile::open(fixtures_dir() / "vit-mae-tiny" / "expected.safetensors");
  const Tensor pixels = expected->load("pixel_values");
  EXPECT_EQ(model.unpatchify(model.patchify(pixels)).to_vector(), pixels.to_vector());
}

TEST(ViTMAE, MaskRatioAndSeededNoise) {
  auto model = models::ViTMAEForPreTraining::from_pretrained(fixtures_dir() / "vit-mae-tiny");
  const auto expected = io::SafetensorsFile::open(fixtures_dir() / "vit-mae-tiny" / "expected.safetensors");
  const Tensor pixels = expected->load("pixel_values");
  const Tensor noise = model.random_noise(2, 7);
  EXPECT_EQ(noise.to_vector(), model.random_noise(2, 7).to_vector());
  EXPECT_NE(noise.to_vector(), model.random_noise(2, 8).to_vector());
  model.set_mask_ratio(0.5);
  const models::ViTMAEOutput out = model.forward(pixels, noise);
  float masked = 0;
  for (float m : out.mask.to_vector()) masked += m;
  EXPECT_EQ(masked, 16.0f);  // 8 of 16 patches in each of 2 images
  EXPECT_THROW(model.set_mask_ratio(1.0), Error);
  EXPECT_THROW(model.set_mask_ratio(-0.1), Error);
}

TEST(ViTMAE, RefusesBadInputs) {
  const auto model = models::ViTMAEForPreTraining::from_pretrained(fixtures_dir() / "vit-mae-tiny");
  const Tensor pixels = Tensor::zeros({1, 3, 32, 32});
  EXPECT_THROW(model.forward(pixels, Tensor::zeros({1, 15})), Error);
  EXPECT_THROW(model.forward(pixels, Tensor::zeros({2, 16})), Error);
  EXPECT_THROW(model.forward(pixels, Tensor::full({1, 16}, NAN)), Error);
  EXPECT_THROW(model.forward(Tensor::zeros({1, 3, 40, 40}), Tensor::zeros({1, 16})), Error);
  EXPECT_THROW(model.unpatchify(Tensor::zeros({1, 15, 192})), Error);
  EXPECT_THROW(model.patchify(Tensor::zeros({1, 3, 32, 24})), Error);
}

}  // namespace
}  // namespace tformer
