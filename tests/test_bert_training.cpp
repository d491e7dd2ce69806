// BERT fine-tuning against PyTorch: every parameter's gradient on a fixed
// batch, and the parameters after three AdamW steps with warm-up, weight
// decay and clipping (tests/data/bert_training/, made by
// tools/make_bert_training_fixture.py with Debian's PyTorch 1.13).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "test_util.h"
#include "tformer/core/thread_pool.h"
#include "tformer/io/checkpoint.h"
#include "tformer/models/bert.h"
#include "tformer/train/adamw.h"
#include "tformer/train/clip.h"
#include "tformer/train/schedule.h"

using namespace tformer;
using namespace tformer::testing;

namespace {
const char* kWord = "bert.embeddings.word_embeddings.weight";
const models::BertTrainingOptions kNoDropout{.hidden_dropout = 0, .attention_dropout = 0, .seed = 0};

struct TrainingFixture {
  io::Checkpoint ref = io::Checkpoint::open(source_dir() / "tests/data/bert_training/bert_tiny_training.safetensors");
  Tensor ids = ref.get("input_ids"), types = ref.get("token_type_ids"), mask = ref.get("attention_mask"),
         labels = ref.get("labels"), word_rows = ref.get("word_rows");
  models::BertInputs inputs() const {
    return {ids.dim(0), ids.dim(1), ids.data<int32_t>(), types.data<int32_t>(), mask.data<int32_t>()};
  }
  models::BertForSequenceClassification model() const {
    auto m = models::BertForSequenceClassification::from_pretrained(fixtures_dir() / "bert-tiny");
    m.enable_grad();
    return m;
  }
  // The rows of the word-embedding table that the fixture stores.
  std::vector<float> word_rows_of(const Tensor& table) const {
    std::vector<float> out;
    const int64_t h = table.dim(1);
    for (int64_t i = 0; i < word_rows.numel(); ++i) {
      const float* row = table.data<float>() + word_rows.data<int64_t>()[i] * h;
      out.insert(out.end(), row, row + h);
    }
    return out;
  }
  // Compares each parameter's value or grad with the fixture's `prefix`.
  //
  // The key biases are special: adding b to every key adds q·b to a whole row
  // of scores, which softmax ignores, so their true gradient is exactly 0 and
  // both engines compute only rounding noise (~1e-9). Their gradients must be
  // that small; their values after AdamW steps are not compared, because Adam
  // divides the noise by its own magnitude and takes an lr-sized step in a
  // direction that is noise, in PyTorch as here (it never changes the output).
  void expect_matches(nn::ParameterList params, bool grads, const char* prefix, double rel) const {
    ASSERT_EQ(params.size(), 41u);  // 5 embeddings + 2 layers × 16 + pooler 2 + classifier 2
    for (nn::Parameter* p : params) {
      const Tensor& t = grads ? p->grad : p->value;
      if (p->name.ends_with("attention.self.key.bias")) {
        if (grads) {
          for (float g : t.to_vector()) ASSERT_LT(std::fabs(g), 1e-6) << p->name;
        }
        continue;
      }
      std::vector<float> got, want;
      if (p->name == kWord) {
        got = word_rows_of(t);
        want = ref.get(std::string(prefix) + "rows." + p->name).to_vector();
      } else {
        got = t.to_vector();
        want = ref.get(prefix + p->name).to_vector();
      }
      // Tolerance relative to each element, with a floor at 1e-4 of the
      // tensor's largest magnitude (gradients that cancel to ~0 carry no
      // relative precision in fp32).
      double max_abs = 0;
      for (float w : want) max_abs = std::max(max_abs, std::fabs(double(w)));
      expect_close(got, want, rel, 1e-4 * max_abs + 1e-9, p->name);
    }
  }
};
}  // namespace

TEST(BertTraining, GradientsMatchPyTorch) {
  TrainingFixture f;
  auto model = f.model();
  const float loss = model.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f, kNoDropout);
  EXPECT_NEAR(loss, f.ref.get("loss").to_vector()[0], 1e-5);
  f.expect_matches(model.parameters(), /*grads=*/true, "grad.", 1e-4);
}

TEST(BertTraining, ThreeAdamWStepsWithWarmupDecayAndClippingMatchPyTorch) {
  TrainingFixture f;
  auto model = f.model();
  nn::ParameterList params = model.parameters();
  train::AdamWOptions opt;
  opt.weight_decay = 0.01;
  train::AdamW adamw(params, opt);
  const train::LinearSchedule schedule{1e-2, 2, 4};
  for (int step = 0; step < 3; ++step) {
    adamw.zero_grad();
    const float loss = model.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f, kNoDropout);
    EXPECT_NEAR(loss, f.ref.get("loss_step_" + std::to_string(step)).to_vector()[0], 2e-5) << step;
    train::clip_grad_norm(params, 1.0f);
    adamw.step(schedule.lr_at(step));
  }
  f.expect_matches(params, /*grads=*/false, "param.", 1e-5);
}

TEST(BertTraining, GradientAccumulationOfHalvesEqualsTheWholeBatch) {
  TrainingFixture f;
  auto whole = f.model();
  whole.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f, kNoDropout);
  auto halves = f.model();
  // Mean over 8 = (mean over rows 0-3 + mean over rows 4-7) / 2, at the batch's padded length.
  const int64_t seq = f.ids.dim(1);
  for (int64_t start : {0, 4}) {
    models::BertInputs in{4, seq, f.ids.data<int32_t>() + start * seq, f.types.data<int32_t>() + start * seq,
                          f.mask.data<int32_t>() + start * seq};
    halves.train_step(in, f.labels.data<int32_t>() + start, 0.5f, kNoDropout);
  }
  auto a = whole.parameters(), b = halves.parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    double max_abs = 0;
    auto want = a[i]->grad.to_vector();
    for (float w : want) max_abs = std::max(max_abs, std::fabs(double(w)));
    expect_close(b[i]->grad.to_vector(), want, 1e-4, 1e-5 * max_abs + 1e-9, a[i]->name);
  }
}

TEST(BertTraining, StepsAreBitIdenticalAcrossThreadCountsAndDropoutIsSeeded) {
  TrainingFixture f;
  auto run = [&](int threads, uint64_t seed) {
    ThreadPool::set_num_threads(threads);
    auto model = f.model();
    const float loss = model.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f,
                                        {.hidden_dropout = 0.1f, .attention_dropout = 0.1f, .seed = seed});
    std::vector<float> all = {loss};
    for (nn::Parameter* p : model.parameters()) {
      auto g = p->grad.to_vector();
      all.insert(all.end(), g.begin(), g.end());
    }
    return all;
  };
  const auto one = run(1, 42), two = run(2, 42), other_seed = run(2, 43);
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) ASSERT_EQ(one[i], two[i]) << "element " << i;
  EXPECT_NE(two, other_seed);  // dropout masks follow the seed
}

TEST(BertTraining, Bf16MixedPrecisionGradientsStayCloseToPyTorchsFp32Ones) {
  // set_weight_format(BF16) after enable_grad: the encoder's Linear GEMMs
  // (forward, input and weight gradients) round their operands to bf16, so
  // each gradient moves off the fp32 one by bf16's rounding, and no further.
  TrainingFixture f;
  auto run = [&](int threads) {
    ThreadPool::set_num_threads(threads);
    auto model = f.model();
    model.set_weight_format(kernels::GemmFormat::BF16);
    const float loss = model.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f, kNoDropout);
    return std::make_pair(loss, model);
  };
  auto [loss, model] = run(2);
  auto [loss_one_thread, model_one_thread] = run(1);
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
  EXPECT_NEAR(loss, f.ref.get("loss").to_vector()[0], 1e-2);
  EXPECT_EQ(loss, loss_one_thread);
  double worst = 0, least = 1;
  nn::ParameterList params = model.parameters(), params_one_thread = model_one_thread.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    const nn::Parameter* p = params[i];
    EXPECT_EQ(p->grad.to_vector(), params_one_thread[i]->grad.to_vector()) << p->name;
    if (p->name.ends_with("attention.self.key.bias")) continue;  // rounding noise (see expect_matches)
    const std::vector<float> got =
        p->name == kWord ? f.word_rows_of(p->grad) : p->grad.to_vector();
    const std::vector<float> want =
        f.ref.get(std::string(p->name == kWord ? "grad.rows." : "grad.") + p->name).to_vector();
    double diff = 0, norm = 0;
    for (size_t j = 0; j < got.size(); ++j) {
      diff += (double(got[j]) - want[j]) * (double(got[j]) - want[j]);
      norm += double(want[j]) * want[j];
    }
    const double rel = std::sqrt(diff / std::max(norm, 1e-30));
    worst = std::max(worst, rel);
    if (p->name.find("encoder") != std::string::npos) least = std::min(least, rel);
    EXPECT_LT(rel, 3e-2) << p->name;
  }
  // The bf16 products took effect in every encoder gradient: fp32 ones match PyTorch to ~1e-6.
  EXPECT_GT(least, 1e-4);
  std::printf("bf16 gradients vs PyTorch fp32: relative L2 error %.2e .. %.2e\n", least, worst);

  auto frozen = f.model();
  EXPECT_THROW(frozen.set_weight_format(kernels::GemmFormat::INT8), Error);
}

TEST(BertTraining, GradientWithDropoutIsTheDerivativeOfTheDroppedLoss) {
  // With its seed fixed, a dropout step is a deterministic function of the
  // parameters; its gradient g must give the central difference along g:
  // L(θ + εg) − L(θ − εg) ≈ 2ε·|g|². Checks the dropout sites' wiring
  // (hidden dropout alone, attention-probability dropout alone, both).
  TrainingFixture f;
  for (const auto& [hidden, attention] : {std::pair{0.2f, 0.0f}, {0.0f, 0.3f}, {0.1f, 0.1f}}) {
    const models::BertTrainingOptions opt{.hidden_dropout = hidden, .attention_dropout = attention, .seed = 7};
    auto model = f.model();
    nn::ParameterList params = model.parameters();
    model.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f, opt);
    std::vector<std::vector<float>> value, grad;
    double norm2 = 0;
    for (nn::Parameter* p : params) {
      value.push_back(p->value.to_vector());
      grad.push_back(p->grad.to_vector());
      for (float g : grad.back()) norm2 += double(g) * g;
    }
    const double eps = 1e-2 / std::sqrt(norm2);
    auto loss_at = [&](double t) {
      for (size_t i = 0; i < params.size(); ++i) {
        float* v = params[i]->value.data<float>();
        for (size_t j = 0; j < value[i].size(); ++j) v[j] = value[i][j] + static_cast<float>(t * grad[i][j]);
      }
      return double(model.train_step(f.inputs(), f.labels.data<int32_t>(), 1.0f, opt));
    };
    const double slope = (loss_at(eps) - loss_at(-eps)) / (2 * eps);
    EXPECT_NEAR(slope, norm2, 2e-2 * norm2) << "hidden " << hidden << ", attention " << attention;
  }
}
