// tformer train / tformer eval as a user runs them: a run killed with SIGKILL
// resumes to the bytes of an uninterrupted one, bad data is named by file and
// line, eval's JSON adds up, and a saved checkpoint loads the way
// transformers loads it (tools/check_hf_load.py, when PyTorch is installed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "test_trainer_support.h"
#include "tformer/models/bert.h"

using namespace tformer;
using namespace tformer::testing;

namespace {

// `tformer train` on bert-tiny with a checkpoint after every step: 40 rows
// in micro-batches of 4, two per step, 2 epochs = 10 steps.
std::string train_command(const std::filesystem::path& model, const std::filesystem::path& data,
                          const std::filesystem::path& out) {
  return cli() + " train --model '" + model.string() + "' --train '" + data.string() + "' --out '" +
         out.string() + "' --epochs 2 --batch-size 4 --grad-accum 2 --lr 1e-3 --warmup-ratio 0.2" +
         " --max-length 16 --save-every 1 --log-every 1";
}

pid_t spawn_shell(const std::string& command) {
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST(TrainCli, RunKilledAfterItsFirstCheckpointResumesToTheSameWeights) {
  ScratchDir scratch;
  const auto model = copy_bert_tiny(scratch / "bert-tiny");
  const auto data = write_sentiment_tsv(scratch / "train.tsv", 40);

  const auto whole = run_command(train_command(model, data, scratch / "whole") + " 2>&1");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;

  const auto out = scratch / "killed";
  const auto state = out / "training_state" / "state.safetensors";
  const pid_t pid = spawn_shell("exec " + train_command(model, data, out) + " 2>/dev/null");
  ASSERT_GT(pid, 0);
  int status = 0;
  bool exited = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::filesystem::exists(state) && !exited && std::chrono::steady_clock::now() < deadline) {
    exited = waitpid(pid, &status, WNOHANG) == pid;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the run finished (or failed) before it could be killed";

  // What the killed run left is a loadable model, whatever it was writing.
  EXPECT_NO_THROW(models::BertForSequenceClassification::from_pretrained(out));

  const auto resumed = run_command(train_command(model, data, out) + " --resume 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  // Killed right after step 1's checkpoint, it resumes before the end.
  const size_t at = resumed.output.find("resuming");
  ASSERT_NE(at, std::string::npos) << resumed.output;
  long long step = -1, total = -1;
  std::sscanf(resumed.output.c_str() + resumed.output.find(" at step ", at), " at step %lld of %lld", &step, &total);
  EXPECT_GE(step, 1);
  EXPECT_LT(step, total) << resumed.output;
  EXPECT_EQ(read_bytes(out / "model.safetensors"), read_bytes(scratch / "whole/model.safetensors"));
  EXPECT_EQ(read_bytes(out / "config.json"), read_bytes(scratch / "whole/config.json"));
  EXPECT_TRUE(temporaries_in(out).empty());
}

TEST(TrainCli, BadDataIsNamedByFileAndLineOrSkipped) {
  ScratchDir scratch;
  const auto model = copy_bert_tiny(scratch / "bert-tiny");
  const auto bad = scratch / "bad.tsv";
  std::ofstream(bad) << "label\tsentence\n1\tfine\nmaybe\tunsure\n0\tbad\n";
  const std::string train = cli() + " train --model '" + model.string() + "' --train '" + bad.string() +
                            "' --out '" + (scratch / "out").string() + "' --epochs 1 --batch-size 2";

  const auto failed = run_command(train + " 2>&1");
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.output.find("bad.tsv:3: "), std::string::npos) << failed.output;
  EXPECT_NE(failed.output.find("maybe"), std::string::npos) << failed.output;

  const auto skipped = run_command(train + " --skip-bad 2>&1");
  EXPECT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("skipped 1 bad rows"), std::string::npos) << skipped.output;

  const auto eval = run_command(cli() + " eval --model '" + model.string() + "' --data '" + bad.string() + "' 2>&1");
  EXPECT_EQ(eval.exit_code, 1);
  EXPECT_NE(eval.output.find("bad.tsv:3: "), std::string::npos) << eval.output;
}

TEST(TrainCli, EvalJsonCountsEveryExampleOnce) {
  ScratchDir scratch;
  const auto model = copy_bert_tiny(scratch / "bert-tiny");
  const auto data = write_sentiment_tsv(scratch / "eval.tsv", 11);
  const auto r = run_command(cli() + " eval --model '" + model.string() + "' --data '" + data.string() +
                             "' --json --batch-size 4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["n"], 11);
  ASSERT_EQ(j["confusion"].size(), 2u);
  int64_t total = 0, diagonal = 0, true_positive_label = 0;
  for (size_t t = 0; t < 2; ++t) {
    ASSERT_EQ(j["confusion"][t].size(), 2u);
    for (size_t p = 0; p < 2; ++p) total += j["confusion"][t][p].get<int64_t>();
    diagonal += j["confusion"][t][t].get<int64_t>();
  }
  true_positive_label = j["confusion"][1][0].get<int64_t>() + j["confusion"][1][1].get<int64_t>();
  EXPECT_EQ(total, 11);
  EXPECT_EQ(true_positive_label, 6);  // rows 0, 2, ..., 10
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), diagonal / 11.0);
  EXPECT_GE(j["macro_f1"].get<double>(), 0.0);
  EXPECT_LE(j["macro_f1"].get<double>(), 1.0);

  const auto table = run_command(cli() + " eval --model '" + model.string() + "' --data '" + data.string() + "'");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("macro-F1"), std::string::npos) << table.output;
  EXPECT_NE(table.output.find("POSITIVE"), std::string::npos) << table.output;
}

TEST(TrainCli, SavedCheckpointLoadsAsTransformersLoadsIt) {
  if (run_command("/usr/bin/python3 -c 'import torch' 2>/dev/null").exit_code != 0)
    GTEST_SKIP() << "/usr/bin/python3 cannot import torch";
  ScratchDir scratch;
  const auto model = copy_bert_tiny(scratch / "bert-tiny");
  const auto data = write_sentiment_tsv(scratch / "train.tsv", 12);
  const auto out = scratch / "out";
  const auto trained = run_command(cli() + " train --model '" + model.string() + "' --train '" + data.string() +
                                   "' --out '" + out.string() + "' --epochs 1 --batch-size 4 --lr 1e-3 2>&1");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const auto check = run_command("/usr/bin/python3 '" + (source_dir() / "tools/check_hf_load.py").string() + "' '" +
                                 out.string() + "' --tformer " + cli() + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("check_hf_load: OK"), std::string::npos) << check.output;
}
