// The bundled model (models/default, trained by recipes/sst2-bert-mini/train.sh):
// it answers sentiment correctly out of the box and holds its SST-2 dev score.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"

using namespace tformer::testing;

TEST(BundledModel, ClassifiesTheReadmeSentencesWithNoFlags) {
  auto r = run_command(cli() + " classify --json 'This movie is great!' 'This movie is terrible.'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string great, terrible;
  std::getline(lines, great);
  std::getline(lines, terrible);
  EXPECT_EQ(nlohmann::json::parse(great)["label"], "POSITIVE") << great;
  EXPECT_EQ(nlohmann::json::parse(terrible)["label"], "NEGATIVE") << terrible;
}

// The recipe's run scored 0.8016 in fp32 and bf16 (0.8039 after its first
// epoch), 0.8005 in int8. The fine-tuning issue asks for at least 0.80.
TEST(BundledModel, HoldsItsSst2DevAccuracy) {
  auto r = run_command(cli() + " eval --json --data '" + (shared_dir() / "data/sst2/dev.tsv").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["n"], 872);
  EXPECT_GE(j["accuracy"].get<double>(), 0.80) << r.output;
}

TEST(BundledModel, Bf16AndInt8StayWithinHalfAPointOfFp32OnSst2Dev) {
  auto accuracy = [](const std::string& dtype) {
    auto r = run_command(cli() + " eval --json --dtype " + dtype + " --data '" +
                         (shared_dir() / "data/sst2/dev.tsv").string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return nlohmann::json::parse(r.output)["accuracy"].get<double>();
  };
  const double fp32 = accuracy("fp32");
  for (const char* dtype : {"bf16", "int8"}) EXPECT_NEAR(accuracy(dtype), fp32, 0.005) << dtype;
}
