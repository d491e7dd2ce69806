// From labelled examples to the padded batches a training or evaluation step
// consumes: tokenised once up front, shuffled per epoch by a fixed algorithm,
// and padded per micro-batch to its own longest sequence.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tformer/models/bert.h"
#include "tformer/tokenizers/bert_tokenizer.h"
#include "tformer/train/dataset.h"

namespace tformer::train {

// One example as token ids, truncated but not padded.
struct EncodedExample {
  std::vector<int32_t> input_ids, token_type_ids;
  int32_t label = 0;
};

// Tokenises every example (text pairs as pairs) with longest_first truncation
// to `max_length` tokens, special tokens included. Errors name the dataset's
// file and the example's line.
std::vector<EncodedExample> encode_examples(const tokenizers::BertTokenizer& tokenizer,
                                            const Dataset& dataset, size_t max_length);

// A 64-bit FNV-1a hash of the encoded examples (ids, token types, labels, in
// order): what training consumes, so it changes with the data, the tokenizer
// or max_length, and not with the file's name.
uint64_t hash_examples(const std::vector<EncodedExample>& examples);

// The order in which epoch `epoch` visits n examples: a Fisher–Yates shuffle
// driven by std::mt19937_64 seeded from (seed, epoch). Written out rather than
// std::shuffle, whose algorithm each standard library chooses, so the order
// (and a training run) is the same with any compiler.
std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch);

// A padded batch, owning its buffers so that collating the next batch into it
// reuses them.
struct Batch {
  int64_t size = 0, seq = 0;
  std::vector<int32_t> input_ids, token_type_ids, attention_mask, labels;

  models::BertInputs inputs() const {
    return {size, seq, input_ids.data(), token_type_ids.data(), attention_mask.data()};
  }
};

// Fills `batch` with examples[indices[i]], padded with `pad_id` to the longest.
void collate(const std::vector<EncodedExample>& examples, std::span<const size_t> indices,
             int32_t pad_id, Batch& batch);

}  // namespace tformer::train
