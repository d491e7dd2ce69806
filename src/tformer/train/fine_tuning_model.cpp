#include "tformer/train/fine_tuning_model.h"

#include "tformer/core/error.h"

namespace tformer::train {

namespace {
// The checks TextClassificationPipeline makes: ids the tokenizer produces
// must index the model's embedding table.
void check_vocab_fits(const FineTuningModel& m, const std::filesystem::path& where) {
  TF_CHECK(m.tokenizer.vocab_size() <= static_cast<size_t>(m.model.config().vocab_size),
           where.string() << ": the tokenizer's vocabulary (" << m.tokenizer.vocab_size()
                          << " tokens) is larger than the model's vocab_size "
                          << m.model.config().vocab_size);
}
}  // namespace

FineTuningModel load_pretrained_for_fine_tuning(const std::filesystem::path& model_dir) {
  FineTuningModel m{models::BertForSequenceClassification::from_pretrained(model_dir),
                    tokenizers::BertTokenizer::from_pretrained(model_dir), model_dir};
  check_vocab_fits(m, model_dir);
  return m;
}

FineTuningModel init_from_config(const std::filesystem::path& config_json,
                                 const std::filesystem::path& tokenizer_dir, uint64_t seed) {
  FineTuningModel m{
      models::BertForSequenceClassification::from_config(models::BertConfig::from_file(config_json), seed),
      tokenizers::BertTokenizer::from_pretrained(tokenizer_dir), tokenizer_dir};
  check_vocab_fits(m, tokenizer_dir);
  return m;
}

DatasetOptions dataset_options_for(const models::BertConfig& config, bool skip_bad) {
  DatasetOptions options;
  for (size_t i = 0; i < config.id2label.size(); ++i) options.label2id[config.id2label[i]] = static_cast<int32_t>(i);
  options.num_labels = static_cast<int32_t>(config.num_labels());
  options.skip_bad = skip_bad;
  return options;
}

}  // namespace tformer::train
