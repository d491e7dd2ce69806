// The seed design's SelfAttention against ../shared/fixtures/seed-attention/.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <utility>

#include "test_util.h"
#include "tformer/io/checkpoint.h"
#include "tformer/nn/seed_self_attention.h"

using namespace tformer;
using namespace tformer::testing;

namespace {
std::filesystem::path seed_dir() { return fixtures_dir() / "seed-attention"; }

nn::SeedSelfAttention load_seed() {
  static io::Checkpoint weights = io::Checkpoint::open(seed_dir() / "weights.safetensors");
  return nn::SeedSelfAttention::load(io::WeightView(weights), 32, 4);
}

// Relative L2 distance ‖a − b‖ / ‖b‖.
double relative_l2(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double(a[i]) - b[i];
    num += d * d;
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}
}  // namespace

TEST(SeedAttention, MatchesEveryFixtureCase) {
  auto attention = load_seed();
  for (const char* name : {"self_causal", "cross_padding", "cross_nomask"}) {
    io::Checkpoint c = io::Checkpoint::open(seed_dir() / (std::string(name) + ".safetensors"));
    Tensor mask = c.contains("mask") ? c.get("mask") : Tensor();
    Tensor out = attention.forward(c.get("values"), c.get("keys"), c.get("query"), mask);
    expect_close(out.to_vector(), c.get("out").to_vector(), 1e-4, 1e-6, name);
  }
}

TEST(SeedAttention, Bf16AndInt8ProjectionsStayCloseToTheFp32Fixture) {
  // bf16 rounds the weights and activations to 8 significant bits, int8
  // quantises them: each moves the output by a rounding's worth, no more.
  using kernels::GemmFormat;
  for (auto [format, bound] : {std::pair{GemmFormat::BF16, 0.01}, std::pair{GemmFormat::INT8, 0.02}}) {
    auto attention = load_seed();
    attention.set_weight_format(format);
    for (const char* name : {"self_causal", "cross_padding", "cross_nomask"}) {
      io::Checkpoint c = io::Checkpoint::open(seed_dir() / (std::string(name) + ".safetensors"));
      Tensor mask = c.contains("mask") ? c.get("mask") : Tensor();
      const Tensor out = attention.forward(c.get("values"), c.get("keys"), c.get("query"), mask);
      const double err = relative_l2(out.to_vector(), c.get("out").to_vector());
      EXPECT_LT(err, bound) << name;
      EXPECT_GT(err, 1e-5) << name << ": the format was not applied";
    }
  }
}

TEST(SeedAttention, FullyMaskedRowsAttendUniformlyAsTheSeedDoes) {
  auto attention = load_seed();
  Tensor x = Tensor::zeros({1, 3, 32});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 0.01f * static_cast<float>(i % 17);
  // Masking every key gives every score the same fill value, so attention is
  // uniform: the same as unmasked keys that are all zero (every score 0).
  Tensor masked = attention.forward(x, x, x, Tensor::zeros({1, 1, 1, 3}));
  Tensor uniform = attention.forward(x, Tensor::zeros({1, 3, 32}), x, Tensor());
  expect_close(masked.to_vector(), uniform.to_vector(), 1e-6, 1e-7, "fully masked");
  // A mask of ones changes nothing.
  EXPECT_EQ(attention.forward(x, x, x, Tensor::full({1, 1, 1, 3}, 1.0f)).to_vector(),
            attention.forward(x, x, x, Tensor()).to_vector());
}

TEST(SeedAttention, RejectsMismatchedShapes) {
  auto attention = load_seed();
  Tensor q = Tensor::zeros({2, 7, 32}), k = Tensor::zeros({2, 9, 32});
  EXPECT_THROW(attention.forward(k, k, Tensor::zeros({2, 7, 16}), Tensor()), Error);
  EXPECT_THROW(attention.forward(k, k, q, Tensor::zeros({2, 1, 7, 8})), Error);
  EXPECT_THROW(attention.forward(q, k, q, Tensor()), Error);
}

TEST(SeedAttentionCli, ReproducesTheFixtureThroughFiles) {
  const auto out = std::filesystem::temp_directory_path() / "tformer_seed_out.safetensors";
  std::filesystem::remove(out);
  auto r = run_command(cli() + " attention --weights '" + (seed_dir() / "weights.safetensors").string() +
                       "' --input '" + (seed_dir() / "cross_padding.safetensors").string() +
                       "' --output '" + out.string() + "' 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  io::Checkpoint got = io::Checkpoint::open(out);
  io::Checkpoint want = io::Checkpoint::open(seed_dir() / "cross_padding.safetensors");
  expect_close(got.get("out").to_vector(), want.get("out").to_vector(), 1e-4, 1e-6, "out");
  std::filesystem::remove(out);

  auto bad = run_command(cli() + " attention --weights '" + (seed_dir() / "weights.safetensors").string() +
                         "' --input '" + (seed_dir() / "weights.safetensors").string() +
                         "' --output /tmp/tformer_never.safetensors 2>&1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("values"), std::string::npos) << bad.output;
}

TEST(SeedAttentionCli, DtypeSetsTheProjectionsFormat) {
  const auto out = std::filesystem::temp_directory_path() / "tformer_seed_bf16.safetensors";
  std::filesystem::remove(out);
  const std::string args = " attention --weights '" + (seed_dir() / "weights.safetensors").string() + "' --input '" +
                           (seed_dir() / "cross_padding.safetensors").string() + "' --output '" + out.string() + "'";
  auto r = run_command(cli() + args + " --dtype bf16 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto got = io::Checkpoint::open(out).get("out").to_vector();
  const auto want = io::Checkpoint::open(seed_dir() / "cross_padding.safetensors").get("out").to_vector();
  const double err = relative_l2(got, want);
  EXPECT_LT(err, 0.01);
  EXPECT_GT(err, 1e-5) << "--dtype bf16 computed in fp32";
  std::filesystem::remove(out);

  auto bad = run_command(cli() + args + " --dtype int4 2>&1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("int4"), std::string::npos) << bad.output;
  EXPECT_FALSE(std::filesystem::exists(out));
}
