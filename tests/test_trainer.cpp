// The fine-tuning loop on bert-tiny: it learns, it resumes bit-exactly, it is
// thread-count independent, it refuses a mismatched resume, and its pieces
// (epoch order, batching, metrics) do what they say.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>

#include <signal.h>
#include <sys/resource.h>

#include "test_trainer_support.h"
#include "tformer/core/error.h"
#include "tformer/core/thread_pool.h"
#include "tformer/io/checkpoint.h"
#include "tformer/train/batching.h"
#include "tformer/train/metrics.h"
#include "tformer/train/trainer.h"

using namespace tformer;
using namespace tformer::testing;

namespace {

struct TinyRun {
  ScratchDir scratch;
  std::filesystem::path model_dir = copy_bert_tiny(scratch / "bert-tiny");
  train::Dataset data;
  train::TrainerOptions options;

  explicit TinyRun(int rows = 18) {
    const auto config = models::BertConfig::from_file(model_dir / "config.json");
    data = train::read_dataset(write_sentiment_tsv(scratch / "train.tsv", rows),
                               train::dataset_options_for(config, false));
    // 18 rows in micro-batches of 4 make 5 per epoch, the last of 2 examples;
    // two per step make 3 steps per epoch, the last of one micro-batch.
    options.epochs = 3;
    options.lr = 1e-3;
    options.batch_size = 4;
    options.grad_accum = 2;
    options.warmup_ratio = 0.2;
    options.max_length = 16;
    options.log_every = 1;
  }
  std::unique_ptr<train::Trainer> trainer(const std::string& out, train::TrainerCallbacks callbacks = {}) {
    return std::make_unique<train::Trainer>(train::load_pretrained_for_fine_tuning(model_dir), data,
                                            std::nullopt, scratch / out, options, std::move(callbacks));
  }
};

std::vector<std::vector<float>> parameter_values(train::Trainer& t) {
  std::vector<std::vector<float>> out;
  for (nn::Parameter* p : t.model().parameters()) out.push_back(p->value.to_vector());
  return out;
}

void expect_bit_identical(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size()) << "parameter " << i;
    EXPECT_EQ(std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)), 0) << "parameter " << i;
  }
}

}  // namespace

TEST(TrainerBatching, EpochOrderIsAFixedPermutationPerSeedAndEpoch) {
  const auto order = train::epoch_order(50, 42, 0);
  std::vector<size_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<size_t> identity(50);
  std::iota(identity.begin(), identity.end(), size_t{0});
  EXPECT_EQ(sorted, identity);
  EXPECT_EQ(order, train::epoch_order(50, 42, 0));
  EXPECT_NE(order, train::epoch_order(50, 42, 1));
  EXPECT_NE(order, train::epoch_order(50, 43, 0));
  // Pinned: the algorithm is ours, not the standard library's, so the order
  // is the same everywhere.
  EXPECT_EQ(std::vector<size_t>(order.begin(), order.begin() + 5), (std::vector<size_t>{4, 47, 19, 32, 33}));
}

TEST(TrainerBatching, CollatePadsToTheLongestOfTheBatch) {
  std::vector<train::EncodedExample> examples = {{{101, 7, 102}, {0, 0, 0}, 1}, {{101, 102}, {0, 0}, 0}};
  train::Batch batch;
  const std::vector<size_t> indices = {1, 0};
  train::collate(examples, indices, 0, batch);
  EXPECT_EQ(batch.size, 2);
  EXPECT_EQ(batch.seq, 3);
  EXPECT_EQ(batch.input_ids, (std::vector<int32_t>{101, 102, 0, 101, 7, 102}));
  EXPECT_EQ(batch.attention_mask, (std::vector<int32_t>{1, 1, 0, 1, 1, 1}));
  EXPECT_EQ(batch.labels, (std::vector<int32_t>{0, 1}));
}

TEST(TrainerMetrics, AccuracyMacroF1AndConfusion) {
  // Class 0: TP 2, FN 1, FP 1 → F1 2/3; class 1: TP 1, FN 1, FP 1 → 1/2;
  // class 2 neither true nor predicted: left out of the mean, as scikit-learn does.
  const auto m = train::classification_metrics({0, 0, 0, 1, 1}, {0, 0, 1, 1, 0}, 3);
  EXPECT_EQ(m.n, 5);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.6);
  EXPECT_DOUBLE_EQ(m.macro_f1, (2.0 / 3.0 + 0.5) / 2.0);
  EXPECT_EQ(m.confusion, (std::vector<std::vector<int64_t>>{{2, 1, 0}, {1, 1, 0}, {0, 0, 0}}));
}

namespace {
// 60 steps over the whole of a 16-row set into run.scratch / "out": the mean
// loss of the last five steps is under half that of the first five (dropout
// makes single steps noisy).
void expect_loss_halves(TinyRun& run) {
  run.options.batch_size = 16;  // the whole set every step, so losses compare
  run.options.grad_accum = 1;
  run.options.epochs = 60;
  run.options.lr = 2e-3;
  run.options.warmup_ratio = 0;
  run.options.eval_every = 1000;  // one checkpoint, at the end
  std::vector<double> losses;
  auto trainer = run.trainer("out", {[&](const train::StepReport& r) { losses.push_back(r.loss); }, nullptr});
  trainer->train();
  ASSERT_EQ(losses.size(), 60u);
  const double first = std::accumulate(losses.begin(), losses.begin() + 5, 0.0) / 5;
  const double last = std::accumulate(losses.end() - 5, losses.end(), 0.0) / 5;
  EXPECT_LT(last, 0.5 * first) << ::testing::PrintToString(losses);
}
}  // namespace

TEST(Trainer, AFewStepsLowerTheTrainingLoss) {
  TinyRun run(16);
  expect_loss_halves(run);
  // The checkpoint is a loadable Hugging Face directory with the tokenizer.
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "metrics.jsonl",
                        "training_state/state.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(run.scratch / "out" / f)) << f;
  EXPECT_EQ(io::Checkpoint::open(run.scratch / "out").metadata().at("format"), "pt");
  EXPECT_TRUE(temporaries_in(run.scratch / "out").empty());
}

TEST(Trainer, MixedPrecisionBf16LearnsAndResumesOnlyAsBf16) {
  TinyRun run(16);
  run.options.compute_format = kernels::GemmFormat::BF16;
  expect_loss_halves(run);
  // The weights it saved are fp32, as transformers' Trainer saves after bf16=True.
  EXPECT_EQ(io::Checkpoint::open(run.scratch / "out").get("bert.pooler.dense.weight").dtype(), DType::F32);
  run.options.compute_format = kernels::GemmFormat::F32;
  try {
    run.trainer("out")->resume();
    ADD_FAILURE() << "resumed a bf16 run in fp32";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dtype \"bf16\" then"), std::string::npos) << e.what();
  }
  run.options.compute_format = kernels::GemmFormat::INT8;
  EXPECT_THROW(run.trainer("int8"), Error);
}

TEST(Trainer, ResumedRunEndsBitIdenticalToAnUninterruptedOne) {
  TinyRun run;
  auto whole = run.trainer("whole");
  ASSERT_EQ(whole->total_steps(), 9);
  whole->train();
  const auto expected = parameter_values(*whole);

  // Stop mid-epoch (epoch 1, after 2 of its 5 micro-batches), destroy, resume.
  run.trainer("split")->train(4);
  auto resumed = run.trainer("split");
  resumed->resume();
  EXPECT_EQ(resumed->progress().step, 4);
  EXPECT_EQ(resumed->progress().epoch, 1);
  EXPECT_EQ(resumed->progress().position, 2);
  resumed->train();
  expect_bit_identical(parameter_values(*resumed), expected);
  EXPECT_EQ(read_bytes(run.scratch / "split/model.safetensors"), read_bytes(run.scratch / "whole/model.safetensors"));
  // One metrics line per step, none repeated across the interruption.
  std::ifstream log(run.scratch / "split/metrics.jsonl");
  std::vector<int64_t> steps;
  for (std::string line; std::getline(log, line);) steps.push_back(nlohmann::json::parse(line)["step"]);
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Trainer, StepsAreBitIdenticalWithOneOrTwoThreads) {
  TinyRun run;
  run.options.epochs = 1;
  auto train_with = [&](int threads, const std::string& out) {
    ThreadPool::set_num_threads(threads);
    auto t = run.trainer(out);
    t->train();
    return parameter_values(*t);
  };
  const auto one = train_with(1, "one"), two = train_with(2, "two");
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
  expect_bit_identical(one, two);
}

TEST(Trainer, RefusesToResumeUnderOtherOptionsOrToOverwriteAState) {
  TinyRun run;
  run.trainer("out")->train(1);
  try {
    run.trainer("out")->train();
    ADD_FAILURE() << "trained over an existing state";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already holds a training state"), std::string::npos) << e.what();
  }
  run.options.lr = 2e-3;
  run.options.seed = 7;
  try {
    run.trainer("out")->resume();
    ADD_FAILURE() << "resumed with another lr";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cannot resume"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lr 0.001 then, 0.002 now"), std::string::npos) << msg;
    EXPECT_NE(msg.find("seed 42 then, 7 now"), std::string::npos) << msg;
  }
}

TEST(Trainer, AFailedSaveLeavesTheLastCheckpointIntact) {
  TinyRun run;
  run.trainer("out")->train(2);
  const auto out = run.scratch / "out";
  const std::vector<std::string> files = {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json",
                                          "training_state/state.safetensors"};
  std::vector<std::string> before;
  for (const auto& f : files) before.push_back(read_bytes(out / f));

  // A disk that fills up: writes past 1 MB fail (EFBIG, SIGXFSZ ignored), so
  // the next checkpoint's model.safetensors (4 MB) cannot be written.
  rlimit saved;
  getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 1 << 20;
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  setrlimit(RLIMIT_FSIZE, &small);
  std::string error;
  try {
    auto t = run.trainer("out");
    t->resume();
    t->train(3);
  } catch (const Error& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  EXPECT_NE(error.find("write failed"), std::string::npos) << error;

  for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(read_bytes(out / files[i]), before[i]) << files[i];
  EXPECT_TRUE(temporaries_in(out).empty());
  auto again = run.trainer("out");
  again->resume();
  EXPECT_EQ(again->progress().step, 2);
}
