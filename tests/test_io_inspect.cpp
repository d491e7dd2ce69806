// `tformer inspect`, run as a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "test_io_support.h"

using namespace tformer::io::testing;

namespace {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

CommandResult run_cli(const std::string& arguments) {
  const std::string command = std::string("'") + TFORMER_CLI_PATH + "' " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string quoted(const fs::path& path) {
  std::string out = "'";  // appended piecewise: GCC 12 misfires -Wrestrict on "'" + s
  out += path.string();
  return out + "'";
}

}  // namespace

TEST(InspectCli, JsonListsTensorsParametersMetadataAndConfig) {
  const auto result = run_cli("inspect --json " + quoted(shared_fixture("bert-tiny")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = nlohmann::json::parse(result.output);
  const auto& tensors = json.at("tensors");
  ASSERT_GT(tensors.size(), 30u);
  int64_t parameters = 0;
  bool found_pooler = false;
  for (const auto& t : tensors) {
    int64_t numel = 1;
    for (int64_t d : t.at("shape")) numel *= d;
    parameters += numel;
    if (t.at("name") == "bert.pooler.dense.weight") {
      found_pooler = true;
      EXPECT_EQ(t.at("dtype"), "F32");
      EXPECT_EQ(t.at("shape"), nlohmann::json::array({32, 32}));
    }
  }
  EXPECT_TRUE(found_pooler);
  EXPECT_EQ(json.at("parameters").get<int64_t>(), parameters);
  EXPECT_TRUE(json.at("metadata").is_object());
  EXPECT_EQ(json.at("config").at("hidden_size"), 32);
}

TEST(InspectCli, TextListsTensorsAndMetadataOfAFile) {
  const auto result = run_cli("inspect " + quoted(shared_fixture("seed-attention/weights.safetensors")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  for (const char* expected : {"fc_out.weight", "F32", "[32, 32]", "parameters: 1,248", "embed_size: 32", "heads: 4"})
    EXPECT_NE(result.output.find(expected), std::string::npos) << "lacks '" << expected << "':\n" << result.output;
}

TEST(InspectCli, PytorchBinDirectoryShowsItsConfig) {
  const auto result = run_cli("inspect " + quoted(shared_fixture("bert-tiny/pytorch_model_bin")));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_NE(result.output.find("pytorch_model.bin"), std::string::npos);
  EXPECT_NE(result.output.find("\"hidden_size\": 32"), std::string::npos) << result.output;
}

TEST(InspectCli, BrokenFileIsAnErrorNotACrash) {
  TempDir dir;
  write_bytes(dir / "model.safetensors", "short");
  const auto result = run_cli("inspect " + quoted(dir.path()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("model.safetensors"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("error"), std::string::npos) << result.output;
}
