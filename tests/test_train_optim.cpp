// AdamW, the linear schedule and gradient clipping against torch 1.13
// (tests/data/train/adamw_fixture.safetensors, from tools/make_adamw_fixture.py)
// and against hand-computed values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <unistd.h>

#include "test_util.h"
#include "tformer/core/thread_pool.h"
#include "tformer/io/safetensors.h"
#include "tformer/train/adamw.h"
#include "tformer/train/clip.h"
#include "tformer/train/schedule.h"

namespace tformer::train {
namespace {

using tformer::testing::expect_close;

// torch and tformer round the same fp32 operations in the same order, but
// torch's AVX2 kernels fuse multiply-adds and sum the gradient norm in fp32:
// a few ulps apart after five steps. Relative to each element, plus the same
// fraction of the tensor's largest element, for moments that cancellation
// brings near zero.
constexpr double kRelTolerance = 1e-6;

void expect_close_to_torch(const Tensor& actual, const Tensor& expected, const std::string& what) {
  const std::vector<float> want = expected.to_vector();
  float largest = 0;
  for (float x : want) largest = std::max(largest, std::fabs(x));
  expect_close(actual.to_vector(), want, kRelTolerance, kRelTolerance * largest, what);
}

class AdamWFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    file = io::SafetensorsFile::open(tformer::testing::source_dir() / "tests/data/train/adamw_fixture.safetensors");
    config = nlohmann::json::parse(file->metadata().at("config"));
    for (const auto& p : config["parameters"]) {
      auto param = std::make_unique<nn::Parameter>();
      param->name = p["name"];
      param->weight_decay = p["weight_decay"];
      param->value = tensor("initial." + param->name).clone();
      params.push_back(std::move(param));
    }
  }

  Tensor tensor(const std::string& name) const { return file->load(name); }
  nn::ParameterList list() const {
    nn::ParameterList out;
    for (const auto& p : params) out.push_back(p.get());
    return out;
  }
  AdamWOptions options() const {
    AdamWOptions o;
    o.lr = config["peak_lr"];
    o.weight_decay = config["weight_decay"];
    return o;
  }
  LinearSchedule schedule() const { return {config["peak_lr"], config["warmup_steps"], config["steps"]}; }
  // Sets each gradient to the fixture's raw gradient for `step`, clips them
  // and returns the norm.
  float set_grads(int step) {
    for (auto& p : params) p->grad = tensor("grad." + std::to_string(step) + "." + p->name).clone();
    return clip_grad_norm(list(), config["max_grad_norm"]);
  }

  std::shared_ptr<io::SafetensorsFile> file;
  nlohmann::json config;
  std::vector<std::unique_ptr<nn::Parameter>> params;
};

TEST_F(AdamWFixture, MatchesTorchEveryStep) {
  AdamW optimizer(list(), options());
  const LinearSchedule lrs = schedule();
  const std::vector<float> torch_lr = tensor("lr").to_vector();
  const std::vector<float> torch_norm = tensor("total_norm").to_vector();
  const int steps = config["steps"];
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    expect_close({set_grads(k)}, {torch_norm[k]}, kRelTolerance, 0, "total_norm");
    EXPECT_EQ(float(lrs.lr_at(k)), torch_lr[k]);
    optimizer.step(lrs.lr_at(k));
    EXPECT_EQ(optimizer.steps(), k + 1);
    std::map<std::string, Tensor> state;
    for (auto& [name, t] : optimizer.state_tensors()) state[name] = t;
    for (const auto& p : params) {
      const std::string prefix = "step." + std::to_string(k) + ".";
      expect_close_to_torch(p->value, tensor(prefix + "param." + p->name), p->name);
      for (const char* moment : {"exp_avg.", "exp_avg_sq."})
        expect_close_to_torch(state.at(moment + p->name), tensor(prefix + moment + p->name),
                              moment + p->name);
    }
  }
}

TEST_F(AdamWFixture, ResumedStateContinuesIdentically) {
  AdamW original(list(), options());
  const LinearSchedule lrs = schedule();
  for (int k = 0; k < 3; ++k) {
    set_grads(k);
    original.step(lrs.lr_at(k));
  }
  // A second model that starts from the original's weights and the saved state.
  std::vector<std::unique_ptr<nn::Parameter>> copies;
  nn::ParameterList copy_list;
  for (const auto& p : params) {
    copies.push_back(std::make_unique<nn::Parameter>(*p));
    copies.back()->value = p->value.clone();
    copy_list.push_back(copies.back().get());
  }
  // Per process: IsaPaths runs this test again in a child beside ctest's own run of it.
  const auto path = std::filesystem::temp_directory_path() /
                    ("tformer_test_adamw_state_" + std::to_string(getpid()) + ".safetensors");
  io::save_safetensors(path, original.state_tensors(), original.state_metadata());
  AdamW resumed(copy_list, options());
  resumed.load_state(*io::SafetensorsFile::open(path));
  std::filesystem::remove(path);
  EXPECT_EQ(resumed.steps(), 3);

  for (int k = 3; k < 5; ++k) {
    set_grads(k);
    for (size_t i = 0; i < params.size(); ++i) copies[i]->grad = params[i]->grad.clone();
    original.step(lrs.lr_at(k));
    resumed.step(lrs.lr_at(k));
  }
  auto a = original.state_tensors(), b = resumed.state_tensors();
  for (size_t i = 0; i < params.size(); ++i) {
    a.emplace_back(params[i]->name, params[i]->value);
    b.emplace_back(copies[i]->name, copies[i]->value);
  }
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].second.to_vector(), b[i].second.to_vector()) << a[i].first;
}

TEST_F(AdamWFixture, LoadStateRejectsMismatchesAndKeepsState) {
  AdamW optimizer(list(), options());
  set_grads(0);
  optimizer.step(1e-3);
  const auto good = optimizer.state_tensors();
  const auto metadata = optimizer.state_metadata();
  const std::vector<float> exp_avg_before = good[0].second.to_vector();

  auto expect_error = [&](const std::vector<std::pair<std::string, Tensor>>& tensors,
                          const std::map<std::string, std::string>& meta, const std::string& needle) {
    try {
      optimizer.load_state(tensors, meta, "opt.safetensors");
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("opt.safetensors: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(optimizer.steps(), 1);
    EXPECT_EQ(optimizer.state_tensors()[0].second.to_vector(), exp_avg_before);
  };
  auto without = [&](const std::string& name) {
    auto out = good;
    std::erase_if(out, [&](const auto& t) { return t.first == name; });
    return out;
  };
  expect_error(without("exp_avg_sq.encoder.bias"), metadata, "missing tensor 'exp_avg_sq.encoder.bias'");
  auto misshaped = without("exp_avg.encoder.bias");
  misshaped.emplace_back("exp_avg.encoder.bias", Tensor::zeros({4}));
  expect_error(misshaped, metadata, "tensor 'exp_avg.encoder.bias' has shape [4], but parameter 'encoder.bias' has shape [3]");
  auto extra = good;
  extra.emplace_back("exp_avg.pooler.weight", Tensor::zeros({2}));
  expect_error(extra, metadata, "'exp_avg.pooler.weight' names no parameter");
  expect_error(good, {}, "no 'adamw.steps'");
  expect_error(good, {{AdamW::kStepsKey, "three"}}, "'three', not a step count");
}

TEST(AdamW, DecoupledWeightDecayAndBiasCorrectionByHand) {
  nn::Parameter decayed{"w", Tensor::from_vector({2.0f}, {1}), Tensor::from_vector({0.5f}, {1}), true};
  nn::Parameter plain{"b", Tensor::from_vector({2.0f}, {1}), Tensor::from_vector({0.5f}, {1}), false};
  AdamWOptions o;
  o.weight_decay = 0.1;
  AdamW optimizer({&decayed, &plain}, o);
  optimizer.step(0.01);
  // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr.
  const double update = 0.01 * 0.5 / (0.5 + 1e-8);
  EXPECT_NEAR(plain.value.to_vector()[0], 2.0 - update, 1e-6);
  EXPECT_NEAR(decayed.value.to_vector()[0], 2.0 * (1 - 0.01 * 0.1) - update, 1e-6);
}

TEST(AdamW, RequiresGradientsAndZeroGradAllocatesThem) {
  nn::Parameter p{"w", Tensor::full({3}, 1.0f), Tensor(), true};
  AdamW optimizer({&p});
  try {
    optimizer.step(1e-3);
    FAIL() << "stepped without a gradient";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter 'w' has no gradient"), std::string::npos) << e.what();
  }
  EXPECT_EQ(optimizer.steps(), 0);
  optimizer.zero_grad();
  ASSERT_TRUE(p.grad.defined());
  EXPECT_EQ(p.grad.to_vector(), std::vector<float>(3, 0.0f));
  p.grad.data<float>()[1] = 5.0f;
  optimizer.zero_grad();
  EXPECT_EQ(p.grad.to_vector(), std::vector<float>(3, 0.0f));
}

// Runs a few steps of clipping and AdamW on parameters large enough for the
// pool to split, returning every value, moment and norm.
std::vector<float> train_large(int num_threads) {
  ThreadPool::set_num_threads(num_threads);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  auto random_tensor = [&](int64_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = normal(rng);
    return Tensor::from_vector(v, {n});
  };
  nn::Parameter big{"big", random_tensor(300'001), Tensor(), true};
  nn::Parameter small{"small", random_tensor(17), Tensor(), false};
  AdamWOptions o;
  o.weight_decay = 0.01;
  AdamW optimizer({&big, &small}, o);
  std::vector<float> out;
  for (int k = 0; k < 3; ++k) {
    big.grad = random_tensor(300'001);
    small.grad = random_tensor(17);
    out.push_back(clip_grad_norm(optimizer.parameters(), 1.0f));
    optimizer.step(1e-3);
  }
  for (const auto& [name, t] : optimizer.state_tensors()) {
    auto v = t.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  for (const nn::Parameter* p : {&big, &small}) {
    auto v = p->value.to_vector();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

TEST(AdamW, BitIdenticalWithOneOrTwoThreads) {
  const std::vector<float> one = train_large(1);
  const std::vector<float> two = train_large(2);
  ThreadPool::set_num_threads(ThreadPool::default_num_threads());
  ASSERT_EQ(one.size(), two.size());
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)), 0);
}

TEST(Schedule, LinearWarmupThenDecayByHand) {
  const LinearSchedule s{1e-3, 2, 5};
  const std::vector<double> expected = {0.0, 0.5e-3, 1e-3, 1e-3 * 2 / 3, 1e-3 * 1 / 3, 0.0, 0.0};
  for (size_t k = 0; k < expected.size(); ++k) EXPECT_DOUBLE_EQ(s.lr_at(k), expected[k]) << "step " << k;
}

TEST(Schedule, WithoutWarmupStartsAtPeak) {
  const LinearSchedule s{2e-5, 0, 4};
  EXPECT_DOUBLE_EQ(s.lr_at(0), 2e-5);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 2e-5 * 0.75);
  EXPECT_DOUBLE_EQ(s.lr_at(4), 0.0);
  // All warm-up: the decay's denominator is max(1, 0).
  const LinearSchedule all_warmup{1.0, 4, 4};
  EXPECT_DOUBLE_EQ(all_warmup.lr_at(3), 0.75);
  EXPECT_DOUBLE_EQ(all_warmup.lr_at(4), 0.0);
}

TEST(Schedule, WarmupStepsFromRatioRoundUp) {
  EXPECT_EQ(warmup_steps_from_ratio(0.1, 1000), 100);
  EXPECT_EQ(warmup_steps_from_ratio(0.06, 1001), 61);  // ceil(60.06)
  EXPECT_EQ(warmup_steps_from_ratio(0.0, 1000), 0);
  EXPECT_EQ(warmup_steps_from_ratio(1.0, 7), 7);
  EXPECT_THROW(warmup_steps_from_ratio(1.5, 10), Error);
}

TEST(Clip, ScalesToMaxNormByHand) {
  nn::Parameter a{"a", Tensor::zeros({2}), Tensor::from_vector({3, 4}, {2}), true};
  nn::Parameter b{"b", Tensor::zeros({1}), Tensor::from_vector({12}, {1}), true};
  nn::Parameter frozen{"c", Tensor::zeros({1}), Tensor(), true};
  EXPECT_FLOAT_EQ(clip_grad_norm({&a, &b, &frozen}, 1.0f), 13.0f);
  const float coef = 1.0f / (13.0f + 1e-6f);
  EXPECT_EQ(a.grad.to_vector(), (std::vector<float>{3 * coef, 4 * coef}));
  EXPECT_EQ(b.grad.to_vector(), (std::vector<float>{12 * coef}));
  EXPECT_NEAR(grad_norm({&a, &b}), 1.0, 1e-6);
}

TEST(Clip, LeavesSmallGradientsUntouched) {
  nn::Parameter a{"a", Tensor::zeros({2}), Tensor::from_vector({0.3f, 0.4f}, {2}), true};
  EXPECT_FLOAT_EQ(clip_grad_norm({&a}, 1.0f), 0.5f);
  EXPECT_EQ(a.grad.to_vector(), (std::vector<float>{0.3f, 0.4f}));
  EXPECT_EQ(clip_grad_norm({}, 1.0f), 0.0f);
}

}  // namespace
}  // namespace tformer::train
