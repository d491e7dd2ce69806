// `tformer tokenize` end to end: runs the built CLI with popen.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

const std::string kModelDir = std::string(TFORMER_SHARED_DIR) + "/fixtures/bert-tiny";

struct RunResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs `tformer tokenize --model bert-tiny <args>` with `stdin_text` on stdin.
RunResult run_tokenize(const std::string& args, const std::string& stdin_text) {
  const auto input = std::filesystem::temp_directory_path() /
                     ("tformer_tokenize_cli_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(input, std::ios::binary) << stdin_text;
  const std::string command = std::string("'") + TFORMER_CLI_PATH + "' tokenize --model '" + kModelDir + "' " +
                              args + " < '" + input.string() + "' 2>&1";
  RunResult result{-1, {}};
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe) {
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
    const int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::filesystem::remove(input);
  return result;
}

}  // namespace

TEST(TokenizeCli, JsonOutputMatchesTheFixture) {
  const RunResult result = run_tokenize("--json", "This movie is great!\nHello\tthere\r\n");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::istringstream lines(result.output);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  const auto first = nlohmann::json::parse(line);
  EXPECT_EQ(first["tokens"], nlohmann::json({"[CLS]", "this", "movie", "is", "great", "!", "[SEP]"}));
  EXPECT_EQ(first["input_ids"], nlohmann::json({101, 2023, 3185, 2003, 2307, 999, 102}));
  EXPECT_EQ(first["token_type_ids"], nlohmann::json({0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(first["attention_mask"], nlohmann::json({1, 1, 1, 1, 1, 1, 1}));
  ASSERT_TRUE(std::getline(lines, line));
  // Without --pair a TAB is whitespace; the trailing '\r' is dropped.
  EXPECT_EQ(nlohmann::json::parse(line)["input_ids"], nlohmann::json({101, 7592, 2045, 102}));
  EXPECT_FALSE(std::getline(lines, line));
}

TEST(TokenizeCli, PairsAndPlainOutput) {
  const RunResult result = run_tokenize("--pair --max-length 5", "Hello\tthere my friend\n");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "[CLS] hello [SEP] there [SEP]\t101 7592 102 2045 102\n");
}

TEST(TokenizeCli, InvalidUtf8OnStdinNamesTheLine) {
  const RunResult result = run_tokenize("--json", "fine\nalso fine\nbad \xC3 byte\n");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("stdin line 3: invalid UTF-8 at byte 4"), std::string::npos) << result.output;
}
