// attention_train and attention_backward against a double attention and its
// finite differences: BERT's fused QKV layout, padding and causal masks, a
// query shorter than the keys, a row whose keys are all masked, and dropout
// on the probabilities.
#include <gtest/gtest.h>

#include "backward_check.h"
#include "tformer/kernels/attention.h"
#include "tformer/kernels/attention_backward.h"
#include "tformer/kernels/dropout.h"

using namespace tformer::kernels;
using namespace tformer::testing;

namespace {
// Where q, k and v (and their gradients) live inside one buffer: element
// (b, h, s, d) of a tensor is at offset + b·batch + h·head + s·row + d.
struct Placement {
  int64_t offset, batch, head, row;
  int64_t at(int64_t b, int64_t h, int64_t s) const { return offset + b * batch + h * head + s * row; }
  HeadsView view(float* buffer) const { return {buffer + offset, batch, head, row}; }
};

struct AttentionCase {
  AttentionShape shape;
  Placement q, k, v;
  int64_t buffer_size;
  std::vector<float> qkv, key_mask, dout;  // dout: [B, Sq, H, D] contiguous
  bool causal = false;
  ProbsDropout dropout;
  float scale;

  // BERT's layout: one [B, S, 3·H·D] buffer from the fused QKV projection.
  static AttentionCase fused(int64_t batch, int64_t heads, int64_t seq, int64_t dim, uint32_t seed) {
    const int64_t row = 3 * heads * dim, hd = heads * dim;
    return AttentionCase({batch, heads, seq, seq, dim}, {0, seq * row, dim, row}, {hd, seq * row, dim, row},
                         {2 * hd, seq * row, dim, row}, batch * seq * row, seed);
  }
  // Separate contiguous [B, S, H, D] tensors one after another, for Sq ≠ Sk.
  static AttentionCase separate(int64_t batch, int64_t heads, int64_t sq, int64_t sk, int64_t dim, uint32_t seed) {
    const int64_t hd = heads * dim, qn = batch * sq * hd, kn = batch * sk * hd;
    return AttentionCase({batch, heads, sq, sk, dim}, {0, sq * hd, dim, hd}, {qn, sk * hd, dim, hd},
                         {qn + kn, sk * hd, dim, hd}, qn + 2 * kn, seed);
  }

  AttentionCase(AttentionShape s, Placement q_, Placement k_, Placement v_, int64_t size, uint32_t seed)
      : shape(s), q(q_), k(k_), v(v_), buffer_size(size), qkv(random_floats(size, seed, -1.5f, 1.5f)),
        key_mask(s.batch * s.kv_len, 1.0f),
        dout(random_floats(s.batch * s.q_len * s.heads * s.head_dim, seed + 1)),
        scale(1.0f / std::sqrt(static_cast<float>(s.head_dim))) {}

  int64_t out_size() const { return static_cast<int64_t>(dout.size()); }
  HeadsView out_view(float* out) const {
    const int64_t hd = shape.heads * shape.head_dim;
    return {out, shape.q_len * hd, shape.head_dim, hd};
  }
  AttentionMask mask() const {
    AttentionMask m;
    m.data = key_mask.data();
    m.batch_stride = shape.kv_len;
    m.causal = causal;
    return m;
  }
  bool keep(int64_t b, int64_t i, int64_t j) const {
    return key_mask[b * shape.kv_len + j] != 0 && !(causal && j > i + shape.kv_len - shape.q_len);
  }
  int64_t probs_size() const { return shape.batch * shape.heads * shape.q_len * shape.kv_len; }
  // Dropout's multiplier for each probability, [B, H, Sq, Sk]: 0 or 1 / (1 − p),
  // from the kernel's own keep decisions (dropout of a tensor of ones).
  std::vector<double> dropout_factors() const {
    std::vector<float> ones(probs_size(), 1.0f), kept(probs_size());
    std::vector<uint8_t> mask(probs_size());
    tformer::kernels::dropout(ones.data(), kept.data(), mask.data(), probs_size(), dropout.p, dropout.seed,
                              dropout.offset);
    return to_double(kept);
  }

  // The forward in double, masked scores set to the same fill as the kernel.
  std::vector<double> reference(const std::vector<double>& buf) const {
    const int64_t sq = shape.q_len, sk = shape.kv_len, dim = shape.head_dim;
    const std::vector<double> factor = dropout_factors();
    std::vector<double> out(out_size());
    for (int64_t b = 0; b < shape.batch; ++b)
      for (int64_t h = 0; h < shape.heads; ++h)
        for (int64_t i = 0; i < sq; ++i) {
          std::vector<double> p(sk);
          double mx = -INFINITY, sum = 0;
          for (int64_t j = 0; j < sk; ++j) {
            double s = 0;
            for (int64_t d = 0; d < dim; ++d) s += buf[q.at(b, h, i) + d] * buf[k.at(b, h, j) + d];
            p[j] = keep(b, i, j) ? scale * s : AttentionMask().fill;
            mx = std::max(mx, p[j]);
          }
          for (int64_t j = 0; j < sk; ++j) sum += p[j] = std::exp(p[j] - mx);
          const double* f = factor.data() + ((b * shape.heads + h) * sq + i) * sk;
          for (int64_t d = 0; d < dim; ++d) {
            double o = 0;
            for (int64_t j = 0; j < sk; ++j) o += p[j] / sum * f[j] * buf[v.at(b, h, j) + d];
            out[((b * sq + i) * shape.heads + h) * dim + d] = o;
          }
        }
    return out;
  }

  // Forward (train) and backward; returns out, probs, the gradient buffer and
  // the dropped probabilities (probs again without dropout).
  std::vector<std::vector<float>> run() const {
    auto buf = qkv;
    std::vector<float> out(out_size()), probs(probs_size()), dropped(probs_size(), NAN);
    std::vector<float> grad(buffer_size, NAN);  // every element is written
    attention_train(shape, q.view(buf.data()), k.view(buf.data()), v.view(buf.data()), out_view(out.data()),
                    scale, mask(), probs.data(), dropout, dropped.data());
    if (dropout.p == 0.0f) dropped = probs;
    auto d = dout;
    attention_backward(shape, q.view(buf.data()), k.view(buf.data()), v.view(buf.data()), probs.data(),
                       dropped.data(), out_view(d.data()), q.view(grad.data()), k.view(grad.data()),
                       v.view(grad.data()), scale, mask());
    return {out, probs, grad, dropped};
  }

  void check_gradients(const std::string& what) const {
    const auto results = run();
    const auto ref = reference(to_double(qkv));
    expect_gradient(results[0], ref, 2e-6, what + " out");
    const auto numeric = numeric_gradient(
        [&](const std::vector<double>& buf) { return weighted_sum(to_double(dout), reference(buf)); },
        to_double(qkv));
    expect_gradient(results[2], numeric, 2e-6, what + " dqkv");
  }
};
}  // namespace

TEST(BackwardAttention, TrainingForwardMatchesInferenceAndWritesProbabilities) {
  AttentionCase c = AttentionCase::fused(2, 3, 5, 4, 1);
  c.key_mask[8] = c.key_mask[9] = 0;
  c.causal = true;
  const auto results = c.run();
  auto buf = c.qkv;
  std::vector<float> out(c.out_size());
  attention(c.shape, c.q.view(buf.data()), c.k.view(buf.data()), c.v.view(buf.data()), c.out_view(out.data()),
            c.scale, c.mask());
  EXPECT_EQ(results[0], out);
  const auto& probs = results[1];
  for (size_t row = 0; row < probs.size() / 5; ++row) {
    double sum = 0;
    for (int j = 0; j < 5; ++j) sum += probs[row * 5 + j];
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << row;
  }
  EXPECT_EQ(probs[(1 * 3 * 5 + 0) * 5 + 4], 0.0f);  // batch 1, head 0, query 0: padded key
}

TEST(BackwardAttention, FusedLayoutWithPaddingAndCausalMasksMatchesFiniteDifferences) {
  for (bool causal : {false, true}) {
    AttentionCase c = AttentionCase::fused(2, 3, 5, 4, 2);
    c.key_mask[8] = c.key_mask[9] = 0;  // second item: last 2 keys are padding
    c.causal = causal;
    c.check_gradients(causal ? "causal" : "padding");
  }
}

TEST(BackwardAttention, ShorterQueryThanKeysWithCausalMask) {
  AttentionCase c = AttentionCase::separate(2, 2, 3, 6, 5, 3);
  c.key_mask[1] = 0;
  c.causal = true;
  c.check_gradients("sq<sk");
}

TEST(BackwardAttention, FullyMaskedRowGetsNoQueryOrKeyGradient) {
  // Every key of the second item is padding: its softmax is uniform over
  // constants, so V gets gradient and Q, K get none.
  AttentionCase c = AttentionCase::fused(2, 2, 3, 4, 4);
  for (int j = 3; j < 6; ++j) c.key_mask[j] = 0;
  c.check_gradients("fully masked");
  const auto grad = c.run()[2];
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t d = 0; d < 4; ++d) {
        EXPECT_EQ(grad[c.q.at(1, h, s) + d], 0.0f);
        EXPECT_EQ(grad[c.k.at(1, h, s) + d], 0.0f);
      }
}

TEST(BackwardAttention, ProbabilityDropoutMatchesFiniteDifferences) {
  // transformers' attention_probs_dropout_prob: out = dropout(P)·V.
  for (bool causal : {false, true}) {
    AttentionCase c = AttentionCase::fused(2, 3, 6, 4, 6);
    c.key_mask[10] = c.key_mask[11] = 0;
    c.causal = causal;
    c.dropout = {0.3f, 17, 1000};
    c.check_gradients(causal ? "dropout causal" : "dropout");
  }
}

TEST(BackwardAttention, ProbabilityDropoutDropsAboutPAndScalesTheRest) {
  AttentionCase c = AttentionCase::fused(2, 4, 32, 8, 7);
  c.dropout = {0.25f, 3, 0};
  const auto results = c.run();
  const auto& probs = results[1];
  const auto& dropped = results[3];
  int64_t zeros = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (dropped[i] == 0.0f) ++zeros;
    else EXPECT_FLOAT_EQ(dropped[i], probs[i] / 0.75f) << i;
  }
  EXPECT_NEAR(static_cast<double>(zeros) / probs.size(), 0.25, 0.03);
  // Another seed drops other probabilities.
  c.dropout.seed = 4;
  EXPECT_NE(c.run()[3], dropped);
}

TEST(BackwardAttention, BitIdenticalForOneAndTwoThreads) {
  AttentionCase c = AttentionCase::fused(2, 4, 33, 16, 5);
  for (int j = 60; j < 66; ++j) c.key_mask[j] = 0;
  expect_thread_invariant([&] { return c.run(); }, "attention train/backward");
  c.dropout = {0.1f, 9, 0};
  expect_thread_invariant([&] { return c.run(); }, "attention train/backward with dropout");
}
