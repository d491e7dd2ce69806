#include "tformer/train/batching.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "tformer/core/error.h"

namespace tformer::train {

std::vector<EncodedExample> encode_examples(const tokenizers::BertTokenizer& tokenizer,
                                            const Dataset& dataset, size_t max_length) {
  tokenizers::EncodeOptions options;
  options.max_length = max_length;
  options.truncation = tokenizers::Truncation::LongestFirst;
  std::vector<EncodedExample> out;
  out.reserve(dataset.examples.size());
  for (const Example& example : dataset.examples) {
    tokenizers::Encoding encoding;
    try {
      encoding = example.text_pair ? tokenizer.encode_pair(example.text, *example.text_pair, options)
                                   : tokenizer.encode(example.text, options);
    } catch (const Error& e) {
      TF_FAIL(dataset.path.string() << ":" << example.line << ": " << e.what());
    }
    out.push_back({std::move(encoding.input_ids), std::move(encoding.token_type_ids), example.label});
  }
  return out;
}

namespace {
struct Fnv1a {
  uint64_t value = 0xcbf29ce484222325ull;
  void add(const void* data, size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) value = (value ^ bytes[i]) * 0x100000001b3ull;
  }
  template <class T>
  void add_vector(const std::vector<T>& v) {
    const uint64_t n = v.size();  // the length first, so [1, 2][3] differs from [1][2, 3]
    add(&n, sizeof n);
    add(v.data(), v.size() * sizeof(T));
  }
};
}  // namespace

uint64_t hash_examples(const std::vector<EncodedExample>& examples) {
  Fnv1a hash;
  for (const EncodedExample& e : examples) {
    hash.add_vector(e.input_ids);
    hash.add_vector(e.token_type_ids);
    hash.add(&e.label, sizeof e.label);
  }
  return hash.value;
}

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::seed_seq seeds{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                      static_cast<uint32_t>(epoch), static_cast<uint32_t>(uint64_t(epoch) >> 32)};
  std::mt19937_64 rng(seeds);
  for (size_t i = n; i > 1; --i) {
    // A uniform j in [0, i) by rejection, not by std::uniform_int_distribution,
    // whose algorithm is also the library's choice.
    const uint64_t bound = i, limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do r = rng();
    while (r >= limit);
    std::swap(order[i - 1], order[r % bound]);
  }
  return order;
}

void collate(const std::vector<EncodedExample>& examples, std::span<const size_t> indices,
             int32_t pad_id, Batch& batch) {
  size_t seq = 0;
  for (size_t i : indices) seq = std::max(seq, examples[i].input_ids.size());
  batch.size = static_cast<int64_t>(indices.size());
  batch.seq = static_cast<int64_t>(seq);
  batch.input_ids.assign(indices.size() * seq, pad_id);
  batch.token_type_ids.assign(indices.size() * seq, 0);
  batch.attention_mask.assign(indices.size() * seq, 0);
  batch.labels.resize(indices.size());
  for (size_t row = 0; row < indices.size(); ++row) {
    const EncodedExample& e = examples[indices[row]];
    std::copy(e.input_ids.begin(), e.input_ids.end(), batch.input_ids.begin() + row * seq);
    std::copy(e.token_type_ids.begin(), e.token_type_ids.end(), batch.token_type_ids.begin() + row * seq);
    std::fill_n(batch.attention_mask.begin() + row * seq, e.input_ids.size(), 1);
    batch.labels[row] = e.label;
  }
}

}  // namespace tformer::train
