// Checkpoint: format precedence, shards, name remapping, conversions, and the
// bert-tiny fixtures in every format.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "test_io_support.h"
#include "tformer/io/atomic_file.h"
#include "tformer/io/checkpoint.h"
#include "tformer/io/safetensors.h"

using namespace tformer;
using namespace tformer::io;
using namespace tformer::io::testing;

namespace {

const fs::path kBertTiny = shared_fixture("bert-tiny");

Tensor vec(std::vector<float> values) {
  const auto n = static_cast<int64_t>(values.size());
  return Tensor::from_vector(values, {n});
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.contiguous().raw(), b.contiguous().raw(), a.nbytes()) == 0;
}

}  // namespace

TEST(CheckpointBertTiny, SafetensorsAndPytorchBinHoldIdenticalTensors) {
  Checkpoint st = Checkpoint::open(kBertTiny);
  Checkpoint bin = Checkpoint::open(kBertTiny / "pytorch_model_bin");
  EXPECT_TRUE(st.source().ends_with("model.safetensors"));
  EXPECT_TRUE(bin.source().ends_with("pytorch_model.bin"));
  ASSERT_EQ(st.names(), bin.names());
  EXPECT_GT(st.names().size(), 30u);
  for (const auto& name : st.names()) EXPECT_TRUE(same_bytes(st.get(name), bin.get(name))) << name;
}

TEST(CheckpointBertTiny, ReducedPrecisionVariantsConvertToRoundedFp32) {
  Checkpoint reference = Checkpoint::open(kBertTiny);
  struct Variant {
    const char* dir;
    DType dtype;
    float (*round)(float);
  };
  const Variant variants[] = {
      {"bf16", DType::BF16, [](float f) { return bf16_to_f32(f32_to_bf16(f)); }},
      {"f16", DType::F16, [](float f) { return f16_to_f32(f32_to_f16(f)); }},
  };
  for (const auto& variant : variants) {
    Checkpoint reduced = Checkpoint::open(kBertTiny / variant.dir);
    ASSERT_EQ(reduced.names(), reference.names()) << variant.dir;
    for (const auto& name : reference.names()) {
      EXPECT_EQ(reduced.info(name).dtype, variant.dtype) << name;
      const Shape& shape = reference.info(name).shape;
      std::vector<float> expected = reference.get_f32(name, shape).to_vector();
      Tensor converted = reduced.get_f32(name, shape);
      ASSERT_EQ(converted.dtype(), DType::F32);
      std::vector<float> got = converted.to_vector();
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], variant.round(expected[i])) << variant.dir << " " << name << "[" << i << "]";
    }
  }
}

TEST(CheckpointBertTiny, Fp32IsAViewNotACopy) {
  Checkpoint ckpt = Checkpoint::open(kBertTiny / "model.safetensors");
  const std::string name = "bert.pooler.dense.weight";
  EXPECT_EQ(ckpt.get_f32(name, {32, 32}).raw(), ckpt.get(name).raw());
}

TEST(CheckpointBertTiny, ShapeMismatchNamesFileTensorAndShapes) {
  Checkpoint ckpt = Checkpoint::open(kBertTiny);
  expect_error([&] { ckpt.get_f32("bert.pooler.dense.weight", {32, 16}); },
               {"model.safetensors: tensor 'bert.pooler.dense.weight': expected shape [32, 16], found [32, 32]"});
  expect_error([&] { ckpt.get_f32("bert.pooler.dense.nonexistent", {32}); },
               {"model.safetensors", "tensor 'bert.pooler.dense.nonexistent' not found"});
}

TEST(CheckpointOpen, DirectoryPrefersSafetensorsThenIndexThenBin) {
  TempDir dir;
  expect_error([&] { Checkpoint::open(dir.path()); },
               {dir.path().string(), "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json"});
  fs::copy_file(io_test_data("strided.bin"), dir / "pytorch_model.bin");
  EXPECT_TRUE(Checkpoint::open(dir.path()).source().ends_with("pytorch_model.bin"));
  save_safetensors(dir / "model.safetensors", {{"only.in.safetensors", vec({1})}});
  Checkpoint ckpt = Checkpoint::open(dir.path());
  EXPECT_TRUE(ckpt.source().ends_with("model.safetensors"));
  EXPECT_EQ(ckpt.names(), std::vector<std::string>{"only.in.safetensors"});
  expect_error([&] { Checkpoint::open(dir / "absent"); }, {"absent", "no such file"});
}

TEST(CheckpointSharded, TwoSafetensorsShardsAndIndexLoad) {
  TempDir dir;
  save_safetensors(dir / "model-00001-of-00002.safetensors", {{"a.weight", vec({1, 2})}}, {{"format", "pt"}});
  save_safetensors(dir / "model-00002-of-00002.safetensors", {{"b.weight", vec({3})}, {"b.bias", vec({4})}});
  write_file_atomically(dir / "model.safetensors.index.json", R"({
    "metadata": {"total_size": 16},
    "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                   "b.weight": "model-00002-of-00002.safetensors",
                   "b.bias": "model-00002-of-00002.safetensors"}})");
  Checkpoint ckpt = Checkpoint::open(dir.path());
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"a.weight", "b.bias", "b.weight"}));
  EXPECT_EQ(ckpt.get_f32("a.weight", {2}).to_vector(), (std::vector<float>{1, 2}));
  EXPECT_EQ(ckpt.get_f32("b.bias", {1}).to_vector(), (std::vector<float>{4}));
  EXPECT_EQ(ckpt.info("b.weight").file.filename(), "model-00002-of-00002.safetensors");
  EXPECT_EQ(ckpt.metadata().at("format"), "pt");
  expect_error([&] { ckpt.get_f32("b.weight", {2}); }, {"model-00002-of-00002.safetensors", "tensor 'b.weight'"});
}

TEST(CheckpointSharded, PytorchBinShardsAndIndexLoad) {
  TempDir dir;
  fs::copy_file(io_test_data("strided.bin"), dir / "pytorch_model-00001-of-00002.bin");
  fs::copy_file(io_test_data("deflated.bin"), dir / "pytorch_model-00002-of-00002.bin");
  write_file_atomically(dir / "pytorch_model.bin.index.json", R"({"metadata": {}, "weight_map": {
      "contiguous": "pytorch_model-00001-of-00002.bin", "transposed": "pytorch_model-00002-of-00002.bin"}})");
  Checkpoint ckpt = Checkpoint::open(dir.path());
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"contiguous", "transposed"}));
  EXPECT_EQ(ckpt.get_f32("transposed", {4, 3}).to_vector()[1], 4.0f);
}

TEST(CheckpointSharded, TensorAbsentFromItsShardNamesBoth) {
  TempDir dir;
  save_safetensors(dir / "shard1.safetensors", {{"a", vec({1})}});
  write_file_atomically(dir / "model.safetensors.index.json",
                        R"({"weight_map": {"a": "shard1.safetensors", "ghost": "shard1.safetensors"}})");
  expect_error([&] { Checkpoint::open(dir.path()); },
               {"model.safetensors.index.json", "tensor 'ghost'", "shard1.safetensors", "absent"});
}

TEST(CheckpointSharded, MissingShardFileNamesBoth) {
  TempDir dir;
  write_file_atomically(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "shard9.safetensors"}})");
  expect_error([&] { Checkpoint::open(dir.path()); },
               {"model.safetensors.index.json", "tensor 'a'", "shard9.safetensors", "missing"});
}

TEST(CheckpointSharded, ShardOutsideTheDirectoryIsRefused) {
  TempDir dir;
  write_file_atomically(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "../elsewhere.safetensors"}})");
  expect_error([&] { Checkpoint::open(dir.path()); }, {"model.safetensors.index.json", "tensor 'a'", "not a file name"});
  write_file_atomically(dir / "model.safetensors.index.json", R"({"weight_map": [1]})");
  expect_error([&] { Checkpoint::open(dir.path()); }, {"model.safetensors.index.json", "field 'weight_map'"});
}

TEST(CheckpointNames, BasePrefixIsOptionalInBothDirections) {
  TempDir dir;
  save_safetensors(dir / "model.safetensors", {{"bert.with_prefix", vec({1})}, {"without_prefix", vec({2})}});
  Checkpoint ckpt = Checkpoint::open(dir.path());
  EXPECT_EQ(ckpt.resolve("with_prefix"), "");
  ckpt.set_base_prefix("bert");
  EXPECT_EQ(ckpt.resolve("with_prefix"), "bert.with_prefix");
  EXPECT_EQ(ckpt.resolve("bert.without_prefix"), "without_prefix");
  EXPECT_EQ(ckpt.resolve("bert.with_prefix"), "bert.with_prefix");
  EXPECT_EQ(ckpt.get_f32("bert.without_prefix", {1}).to_vector()[0], 2.0f);
  expect_error([&] { ckpt.get_f32("bert.absent", {1}); }, {"model.safetensors", "'bert.absent' not found", "'absent'"});
}

TEST(CheckpointNames, GammaAndBetaLoadAsWeightAndBias) {
  TempDir dir;
  save_safetensors(dir / "model.safetensors",
                   {{"encoder.LayerNorm.gamma", vec({1, 2})}, {"encoder.LayerNorm.beta", vec({3, 4})},
                    {"gamma_ray.weight", vec({5})}});
  Checkpoint ckpt = Checkpoint::open(dir.path());
  EXPECT_EQ(ckpt.names(),
            (std::vector<std::string>{"encoder.LayerNorm.bias", "encoder.LayerNorm.weight", "gamma_ray.weight"}));
  EXPECT_EQ(ckpt.info("encoder.LayerNorm.weight").stored_name, "encoder.LayerNorm.gamma");
  EXPECT_EQ(ckpt.get_f32("encoder.LayerNorm.bias", {2}).to_vector(), (std::vector<float>{3, 4}));
  // The pytorch reader remaps the same way.
  Checkpoint bin = Checkpoint::open(io_test_data("strided.bin"));
  EXPECT_EQ(bin.get_f32("LayerNorm.weight", {2}).to_vector(), (std::vector<float>{1, 2}));
  EXPECT_EQ(bin.get_f32("LayerNorm.bias", {2}).to_vector(), (std::vector<float>{0.25f, 0.5f}));
}

TEST(CheckpointNames, OldAndNewNameForOneTensorIsAnError) {
  TempDir dir;
  save_safetensors(dir / "model.safetensors", {{"ln.gamma", vec({1})}, {"ln.weight", vec({2})}});
  expect_error([&] { Checkpoint::open(dir.path()); }, {"model.safetensors", "'ln.gamma'", "'ln.weight'"});
}

TEST(CheckpointGet, IntegerTensorIsNotConvertedToFloat) {
  Checkpoint ckpt = Checkpoint::open(io_test_data("strided.bin"));
  EXPECT_EQ(ckpt.get("long").dtype(), DType::I64);
  expect_error([&] { ckpt.get_f32("long", {3}); }, {"strided.bin", "tensor 'long'", "I64"});
}

TEST(CheckpointUsage, CheckAllUsedNamesWhatTheModelLeftOut) {
  TempDir dir;
  save_safetensors(dir / "model.safetensors",
                   {{"bert.a", vec({1})}, {"bert.b", vec({2})}, {"cls.head", vec({3})}});
  Checkpoint ckpt = Checkpoint::open(dir.path());
  ckpt.get_f32("bert.a", {1});
  expect_error([&] { ckpt.check_all_used({"cls."}); }, {"model.safetensors", "1 tensor not used", "'bert.b'"});
  ckpt.mark_used("bert.b");
  EXPECT_NO_THROW(ckpt.check_all_used({"cls."}));
  expect_error([&] { ckpt.check_all_used({}); }, {"'cls.head'"});
}

TEST(CheckpointWeightView, PrefixesComposeLikeModulePaths) {
  Checkpoint ckpt = Checkpoint::open(kBertTiny);
  WeightView layer = WeightView(ckpt, "bert.").pp("encoder").pp("layer").pp(1);
  EXPECT_EQ(layer.full_name("attention.self.query.weight"), "bert.encoder.layer.1.attention.self.query.weight");
  WeightView query = layer.pp("attention").pp("self").pp("query");
  EXPECT_TRUE(query.contains("bias"));
  EXPECT_FALSE(query.contains("gamma_missing"));
  EXPECT_EQ(query.get("weight", {32, 32}).shape(), Shape({32, 32}));
  expect_error([&] { query.get("weight", {32}); },
               {"model.safetensors", "tensor 'bert.encoder.layer.1.attention.self.query.weight'", "expected shape [32]"});
  expect_error([&] { query.get("nothing", {1}); }, {"tensor 'bert.encoder.layer.1.attention.self.query.nothing'"});
}
