#include "tformer/pipelines/sampling.h"

#include <algorithm>
#include <cmath>

#include "tformer/core/error.h"

namespace tformer::pipelines {

void SamplingOptions::validate() const {
  TF_CHECK(std::isfinite(temperature) && temperature >= 0,
           "temperature must be a finite number ≥ 0 (0 is greedy), got " << temperature);
  TF_CHECK(top_k >= 0, "top_k must be ≥ 0 (0 keeps every token), got " << top_k);
  TF_CHECK(std::isfinite(top_p) && top_p > 0 && top_p <= 1, "top_p must be in (0, 1], got " << top_p);
  TF_CHECK(std::isfinite(repetition_penalty) && repetition_penalty > 0,
           "repetition_penalty must be a finite number > 0 (1 is none), got " << repetition_penalty);
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) { options.validate(); }

void Sampler::reserve(int64_t vocab) {
  seen_.assign(vocab, 0);
  candidates_.reserve(vocab);
  probs_.reserve(vocab);
}

int32_t Sampler::next(float* logits, int64_t vocab, std::span<const int32_t> history) {
  if (static_cast<int64_t>(seen_.size()) < vocab) reserve(vocab);
  if (options_.repetition_penalty != 1.0f) {
    // As transformers' RepetitionPenaltyLogitsProcessor: a seen token's
    // logit shrinks toward (or, negative, away from) zero, once.
    const float p = options_.repetition_penalty;
    for (int32_t id : history) {
      if (id < 0 || id >= vocab || seen_[id]) continue;
      seen_[id] = 1;
      logits[id] = logits[id] < 0 ? logits[id] * p : logits[id] / p;
    }
    for (int32_t id : history)
      if (id >= 0 && id < vocab) seen_[id] = 0;
  }
  // Greedy: the first of the largest, as torch.argmax.
  if (options_.temperature == 0.0f) return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);

  // Candidates by logit, best first: all of them, or the top k.
  candidates_.resize(vocab);
  for (int64_t i = 0; i < vocab; ++i) candidates_[i] = static_cast<int32_t>(i);
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  int64_t keep = options_.top_k > 0 ? std::min<int64_t>(options_.top_k, vocab) : vocab;
  if (keep < vocab) {
    std::nth_element(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), better);
    candidates_.resize(keep);
  }
  std::sort(candidates_.begin(), candidates_.end(), better);

  // Softmax of logit / temperature over the candidates.
  const float inv_t = 1.0f / options_.temperature, top = logits[candidates_[0]] * inv_t;
  probs_.resize(candidates_.size());
  double total = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) total += probs_[i] = std::exp(logits[candidates_[i]] * inv_t - top);
  // Nucleus: the fewest best tokens whose probability reaches top_p (at least one).
  if (options_.top_p < 1.0f) {
    double cumulative = 0;
    size_t n = 0;
    while (n < candidates_.size() && (n == 0 || cumulative < options_.top_p * total)) cumulative += probs_[n++];
    probs_.resize(n);
    total = cumulative;
  }
  // Logits of a corrupt model (NaN, ∞) leave no distribution to draw from: take the best candidate.
  if (!(total > 0) || !std::isfinite(total)) return candidates_[0];
  const double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  double cumulative = 0;
  for (size_t i = 0; i < probs_.size(); ++i) {
    cumulative += probs_[i];
    if (u < cumulative) return candidates_[i];
  }
  return candidates_[probs_.size() - 1];
}

}  // namespace tformer::pipelines
