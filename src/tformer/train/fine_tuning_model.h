// The model and tokenizer a fine-tuning run starts from: a pretrained Hugging
// Face directory, or a config.json (fresh weights) with a tokenizer directory.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tformer/models/bert.h"
#include "tformer/tokenizers/bert_tokenizer.h"
#include "tformer/train/dataset.h"

namespace tformer::train {

struct FineTuningModel {
  models::BertForSequenceClassification model;
  tokenizers::BertTokenizer tokenizer;
  // Where the tokenizer's files are, to copy them beside each checkpoint.
  std::filesystem::path tokenizer_dir;
};

// A BertForSequenceClassification directory with its tokenizer files.
FineTuningModel load_pretrained_for_fine_tuning(const std::filesystem::path& model_dir);

// Fresh weights initialised from `seed` for the architecture in `config_json`,
// with the tokenizer of `tokenizer_dir`.
FineTuningModel init_from_config(const std::filesystem::path& config_json,
                                 const std::filesystem::path& tokenizer_dir, uint64_t seed);

// Reading labelled data for a model: label names from its id2label, labels
// checked against its number of labels.
DatasetOptions dataset_options_for(const models::BertConfig& config, bool skip_bad);

}  // namespace tformer::train
