// tformer bench: the JSON that scripts/bench_*.sh read (the fields the speed
// issue names: median_ms, min_ms, batch, seq, threads, dtype), in its three
// modes, on the tiny fixture model; and its refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "test_util.h"

using namespace tformer::testing;

namespace {
const std::string kTiny = (fixtures_dir() / "bert-tiny").string();

// Runs `tformer bench ARGS --json` and parses its one line of output.
nlohmann::json bench_json(const std::string& args) {
  auto r = run_command(cli() + " bench " + args + " --json 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  try {
    return nlohmann::json::parse(r.output);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not one JSON object: " << r.output;
    return {};
  }
}

void expect_timings(const nlohmann::json& j, int runs, int threads, const std::string& dtype) {
  EXPECT_GT(j.at("median_ms").get<double>(), 0.0);
  EXPECT_LE(j.at("min_ms").get<double>(), j.at("median_ms").get<double>());
  EXPECT_EQ(j.at("runs"), runs);
  EXPECT_EQ(j.at("threads"), threads);
  EXPECT_EQ(j.at("dtype"), dtype);
}
}  // namespace

TEST(BenchCli, ForwardReportsLatencyShapeAndStartUpInEveryDtype) {
  for (const char* dtype : {"fp32", "bf16", "int8"}) {
    const auto j = bench_json("--model '" + kTiny + "' --batch 2 --seq 16 --threads 2 --runs 3 --warmup 1 --dtype " +
                              dtype);
    expect_timings(j, 3, 2, dtype);
    EXPECT_EQ(j.at("batch"), 2);
    EXPECT_EQ(j.at("seq"), 16);
    EXPECT_GT(j.at("load_ms").get<double>(), 0.0);
    // From the process's start to the first logits: the load and a forward at least.
    EXPECT_GE(j.at("startup_ms").get<double>(), j.at("load_ms").get<double>());
    EXPECT_LT(j.at("startup_ms").get<double>(), 60e3);
    EXPECT_TRUE(j.at("finite").get<bool>());
    ASSERT_EQ(j.at("logits").size(), 2u) << dtype;  // the fixture's two labels
  }
  // No warm-up: the first timed forward is the first result.
  const auto cold = bench_json("--model '" + kTiny + "' --seq 8 --runs 1 --warmup 0 --threads 1");
  expect_timings(cold, 1, 1, "fp32");
  EXPECT_GE(cold.at("startup_ms").get<double>(), cold.at("load_ms").get<double>());
}

TEST(BenchCli, TrainingStepsAndGemmModes) {
  const auto train = bench_json("--train --model '" + kTiny + "' --batch 4 --seq 16 --threads 1 --runs 2 --warmup 1");
  expect_timings(train, 2, 1, "fp32");
  EXPECT_EQ(train.at("mode"), "train");
  EXPECT_EQ(train.at("batch"), 4);
  EXPECT_TRUE(std::isfinite(train.at("first_loss").get<double>()));
  EXPECT_GT(train.at("first_grad_norm").get<double>(), 0.0);

  const auto gemm = bench_json("--gemm 16x64x32 --threads 2 --runs 2 --warmup 1 --dtype bf16");
  expect_timings(gemm, 2, 2, "bf16");
  EXPECT_EQ(gemm.at("mode"), "gemm");
  EXPECT_EQ(gemm.at("m"), 16);
  EXPECT_EQ(gemm.at("n"), 64);
  EXPECT_EQ(gemm.at("k"), 32);
  EXPECT_GT(gemm.at("gflops").get<double>(), 0.0);
}

TEST(BenchCli, RefusesShapesTheModelCannotTake) {
  auto too_long = run_command(cli() + " bench --model '" + kTiny + "' --seq 100000 2>&1");
  EXPECT_NE(too_long.exit_code, 0);
  EXPECT_NE(too_long.output.find("max_position_embeddings"), std::string::npos) << too_long.output;
  auto bad_gemm = run_command(cli() + " bench --gemm 0x1x1 2>&1");
  EXPECT_NE(bad_gemm.exit_code, 0);
  EXPECT_NE(bad_gemm.output.find("0x1x1"), std::string::npos) << bad_gemm.output;
  auto both = run_command(cli() + " bench --gemm 8x8x8 --model '" + kTiny + "' 2>&1");
  EXPECT_NE(both.exit_code, 0);
}
