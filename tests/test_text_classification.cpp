// The text-classification pipeline and `tformer classify`, end to end from
// text to logits, against ../shared/fixtures/bert-small/expected.json.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"
#include "tformer/pipelines/text_classification.h"

using namespace tformer;
using namespace tformer::testing;

namespace {
std::filesystem::path small_dir() { return fixtures_dir() / "bert-small"; }
}  // namespace

TEST(TextClassification, TextsToLogitsMatchPyTorchInAnyBatchSize) {
  auto pipeline = pipelines::TextClassificationPipeline::from_pretrained(small_dir());
  auto exp = load_json(small_dir() / "expected.json");
  auto texts = exp["texts"].get<std::vector<std::string>>();
  for (size_t batch_size : {1, 3, 8, 64}) {
    pipelines::ClassificationOptions opt;
    opt.batch_size = batch_size;
    opt.max_length = 128;  // as the fixture was encoded
    auto results = pipeline(texts, opt);
    ASSERT_EQ(results.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      const std::string what = "batch " + std::to_string(batch_size) + ", text " + std::to_string(i);
      expect_close(results[i].logits, flatten(exp["logits"][i]), 1e-4, 1e-5, what);
      expect_close(results[i].probabilities, flatten(exp["probabilities"][i]), 1e-4, 1e-6, what);
      const int expected_label = exp["logits"][i][1].get<float>() > exp["logits"][i][0].get<float>();
      EXPECT_EQ(results[i].label_id, expected_label) << what;
      EXPECT_EQ(results[i].label, expected_label ? "POSITIVE" : "NEGATIVE");
      EXPECT_FLOAT_EQ(results[i].score, results[i].probabilities[expected_label]);
    }
  }
}

TEST(TextClassification, RejectsUnusableOptions) {
  auto pipeline = pipelines::TextClassificationPipeline::from_pretrained(small_dir());
  pipelines::ClassificationOptions opt;
  opt.max_length = 1024;  // beyond max_position_embeddings
  EXPECT_THROW(pipeline({"hello"}, opt), Error);
  opt.max_length = 8;
  opt.batch_size = 0;
  EXPECT_THROW(pipeline({"hello"}, opt), Error);
}

TEST(ClassifyCli, JsonLinesFromArgumentsAndStdin) {
  const std::string model = " --model '" + small_dir().string() + "'";
  auto r = run_command(cli() + " classify --json --max-length 128" + model +
                       " 'one long string of cliches .' ''");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  std::vector<nlohmann::json> objs;
  while (std::getline(lines, line)) objs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objs.size(), 2u);
  auto exp = load_json(small_dir() / "expected.json");
  EXPECT_EQ(objs[0]["text"], "one long string of cliches .");
  expect_close(objs[0]["logits"].get<std::vector<float>>(), flatten(exp["logits"][0]), 1e-4, 1e-5, "cli");
  for (const auto& o : objs) {
    EXPECT_TRUE(o["label"] == "POSITIVE" || o["label"] == "NEGATIVE");
    EXPECT_GE(o["score"].get<double>(), 0.5);
  }

  // stdin: one text per line, CRLF tolerated, plain output "label<TAB>score".
  auto s = run_command("printf 'good\\r\\nbad\\n' | " + cli() + " classify" + model);
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_EQ(std::count(s.output.begin(), s.output.end(), '\n'), 2) << s.output;
  EXPECT_NE(s.output.find('\t'), std::string::npos);
}

TEST(ClassifyCli, DefaultModelAndErrors) {
  auto ok = run_command(cli() + " classify 'This movie is great!'");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto missing = run_command(cli() + " classify --model /nonexistent/model hello 2>&1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("/nonexistent/model"), std::string::npos) << missing.output;
  auto bad_utf8 = run_command("printf 'fine\\n\\377\\376\\n' | " + cli() + " classify 2>&1");
  EXPECT_NE(bad_utf8.exit_code, 0);
  EXPECT_NE(bad_utf8.output.find("line 2"), std::string::npos) << bad_utf8.output;
  auto version = run_command(cli() + " --version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("tformer"), std::string::npos);
  auto usage = run_command(cli() + " classify --batch-size 0 x 2>&1");
  EXPECT_NE(usage.exit_code, 0);
}

TEST(ClassifyCli, RepeatedRunsGiveBitIdenticalOutput) {
  // Each run is a fresh process, so start-up races (thread pool, BLAS
  // initialisation) would show as differing logits.
  const std::string cmd = cli() + " classify --json 'This movie is great!' 'terrible' 'a b c d e f g'";
  const std::string first = run_command(cmd).output;
  ASSERT_FALSE(first.empty());
  for (int i = 0; i < 10; ++i) ASSERT_EQ(run_command(cmd).output, first) << "run " << i;
}

TEST(ClassifyCli, EveryIsaForcedByTformerIsaMatchesPyTorch) {
  // TFORMER_ISA picks the GEMM micro-kernels and the element-wise loops alike;
  // each path this CPU has must reproduce the fixture's logits.
  const std::string model = " --model '" + small_dir().string() + "'";
  auto exp = load_json(small_dir() / "expected.json");
  for (Isa isa : supported_isas()) {
    auto r = run_command("TFORMER_ISA=" + std::string(isa_name(isa)) + " " + cli() +
                         " classify --json --max-length 128" + model + " 'one long string of cliches .'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    expect_close(nlohmann::json::parse(r.output)["logits"].get<std::vector<float>>(), flatten(exp["logits"][0]),
                 1e-4, 1e-5, std::string("TFORMER_ISA=") + std::string(isa_name(isa)));
  }
  auto bad = run_command("TFORMER_ISA=sse9 " + cli() + " classify" + model + " hello 2>&1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("TFORMER_ISA=sse9"), std::string::npos) << bad.output;
}
