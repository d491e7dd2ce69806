// tformer convert: fp32 → bf16 / f16 gives exactly the fixture's rounded
// checkpoints, and pytorch_model.bin → safetensors keeps every tensor.
#include <gtest/gtest.h>

#include <cstring>

#include "test_util.h"
#include "tformer/io/checkpoint.h"

using namespace tformer;
using namespace tformer::testing;

namespace {
std::filesystem::path convert(const std::filesystem::path& model, const std::string& dtype) {
  const auto out = std::filesystem::temp_directory_path() / ("tformer_convert_" + dtype);
  std::filesystem::remove_all(out);
  auto r = run_command(cli() + " convert --model '" + model.string() + "' --out '" + out.string() +
                       "' --dtype " + dtype + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return out;
}

void expect_same_tensors(const std::filesystem::path& a, const std::filesystem::path& b) {
  io::Checkpoint x = io::Checkpoint::open(a), y = io::Checkpoint::open(b);
  ASSERT_EQ(x.names(), y.names());
  for (const std::string& name : x.names()) {
    Tensor tx = x.get(name), ty = y.get(name);
    ASSERT_EQ(tx.dtype(), ty.dtype()) << name;
    ASSERT_EQ(tx.shape(), ty.shape()) << name;
    ASSERT_EQ(0, std::memcmp(tx.contiguous().raw(), ty.contiguous().raw(), tx.nbytes())) << name;
  }
}
}  // namespace

TEST(ConvertCli, HalfPrecisionMatchesTheRoundedFixtures) {
  const auto tiny = fixtures_dir() / "bert-tiny";
  for (const char* dtype : {"bf16", "f16"}) {
    const auto out = convert(tiny, dtype);
    expect_same_tensors(out / "model.safetensors", tiny / dtype / "model.safetensors");
    for (const char* file : {"config.json", "vocab.txt", "tokenizer_config.json"})
      EXPECT_TRUE(std::filesystem::is_regular_file(out / file)) << file;
    std::filesystem::remove_all(out);
  }
}

TEST(ConvertCli, PytorchBinToSafetensorsKeepsEveryTensorAndRefusesBadInput) {
  const auto tiny = fixtures_dir() / "bert-tiny";
  const auto out = convert(tiny / "pytorch_model_bin", "f32");
  expect_same_tensors(out / "model.safetensors", tiny / "model.safetensors");
  std::filesystem::remove_all(out);
  auto bad = run_command(cli() + " convert --model '" + tiny.string() + "' --out /tmp/x --dtype int4 2>&1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("int4"), std::string::npos) << bad.output;
}
