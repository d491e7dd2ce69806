// BERT parity against ../shared/fixtures/bert-*/expected.json (made with
// PyTorch from code following transformers' BertForSequenceClassification).
#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "tformer/io/checkpoint.h"
#include "tformer/models/bert.h"
#include "tformer/tokenizers/bert_tokenizer.h"

using namespace tformer;
using namespace tformer::testing;

namespace {

struct Batch {
  int64_t batch = 0, seq = 0;
  std::vector<int32_t> ids, types, mask;
  models::BertInputs inputs() const { return {batch, seq, ids.data(), types.data(), mask.data()}; }
};

Batch batch_from(const nlohmann::json& ids, const nlohmann::json& types, const nlohmann::json& mask) {
  Batch b;
  b.batch = static_cast<int64_t>(ids.size());
  b.seq = static_cast<int64_t>(ids[0].size());
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t j = 0; j < ids[i].size(); ++j) {
      b.ids.push_back(ids[i][j]);
      b.types.push_back(types[i][j]);
      b.mask.push_back(mask[i][j]);
    }
  return b;
}

// Logits of every fixture text, all in one padded batch, within 1e-4 relative.
void check_logits(const std::filesystem::path& model_dir, const std::filesystem::path& expected) {
  auto model = models::BertForSequenceClassification::from_pretrained(model_dir);
  auto exp = load_json(expected);
  Batch b = batch_from(exp["input_ids"], exp["token_type_ids"], exp["attention_mask"]);
  Tensor logits = model.forward(b.inputs());
  EXPECT_EQ(logits.shape(), Shape({b.batch, 2}));
  expect_close(logits.to_vector(), flatten(exp["logits"]), 1e-4, 1e-5, model_dir.string());
}

class BertFixture : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(BertFixture, LogitsHiddenStatesAndPoolerMatchPyTorch) {
  const auto dir = fixtures_dir() / GetParam();
  check_logits(dir, dir / "expected.json");

  auto model = models::BertForSequenceClassification::from_pretrained(dir);
  auto exp = load_json(dir / "expected.json");
  // The first text alone (its padding rows are left out of the fixture).
  auto first = exp["input_ids"][0];
  std::vector<int32_t> ids;
  for (size_t j = 0; j < first.size() && exp["attention_mask"][0][j] == 1; ++j) ids.push_back(first[j]);
  std::vector<int32_t> zeros(ids.size(), 0), ones(ids.size(), 1);
  models::BertOutput hidden;
  model.forward({1, static_cast<int64_t>(ids.size()), ids.data(), zeros.data(), ones.data()}, &hidden);
  expect_close(hidden.last_hidden_state.to_vector(), flatten(exp["first_text_last_hidden_state"]),
               1e-4, 1e-5, "last_hidden_state");
  expect_close(hidden.pooler_output.to_vector(), flatten(exp["first_text_pooler_output"]), 1e-4, 1e-5,
               "pooler_output");

  // Sentence pairs (token types 1 in the second segment).
  Batch pairs = batch_from(exp["pair_input_ids"], exp["pair_token_type_ids"], exp["pair_attention_mask"]);
  expect_close(model.forward(pairs.inputs()).to_vector(), flatten(exp["pair_logits"]), 1e-4, 1e-5,
               "pair_logits");
}

TEST_P(BertFixture, ClassifierSkipsTheLastLayersNonClsRowsWithoutChangingAnyBit) {
  // Without `hidden`, the last layer computes only the [CLS] rows; each of
  // their elements is the same chain of operations as in the full pass.
  const auto dir = fixtures_dir() / GetParam();
  auto model = models::BertForSequenceClassification::from_pretrained(dir);
  auto exp = load_json(dir / "expected.json");
  Batch b = batch_from(exp["input_ids"], exp["token_type_ids"], exp["attention_mask"]);
  const std::vector<float> fast = model.forward(b.inputs()).to_vector();
  models::BertOutput hidden;
  const std::vector<float> full = model.forward(b.inputs(), &hidden).to_vector();
  EXPECT_EQ(hidden.last_hidden_state.shape(), Shape({b.batch, b.seq, model.config().hidden_size}));
  EXPECT_EQ(fast, full);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, BertFixture, ::testing::Values("bert-tiny", "bert-small"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(Bert, PytorchModelBinGivesTheSameLogits) {
  const auto dir = fixtures_dir() / "bert-tiny";
  check_logits(dir / "pytorch_model_bin", dir / "expected.json");
}

TEST(Bert, HalfPrecisionCheckpointsMatchTheirRoundedWeights) {
  for (const char* variant : {"bf16", "f16"}) {
    const auto dir = fixtures_dir() / "bert-tiny" / variant;
    auto model = models::BertForSequenceClassification::from_pretrained(dir);
    auto exp = load_json(dir / "expected.json");
    // This fixture holds texts only: encode them as the others were.
    auto tokenizer = tokenizers::BertTokenizer::from_pretrained(dir);
    tokenizers::EncodeOptions opt;
    opt.max_length = 128;
    opt.truncation = tokenizers::Truncation::LongestFirst;
    opt.padding = tokenizers::Padding::Longest;
    auto enc = tokenizer.encode_batch(exp["texts"].get<std::vector<std::string>>(), {}, opt);
    Batch b;
    b.batch = static_cast<int64_t>(enc.size());
    b.seq = static_cast<int64_t>(enc[0].input_ids.size());
    for (const auto& e : enc) {
      b.ids.insert(b.ids.end(), e.input_ids.begin(), e.input_ids.end());
      b.types.insert(b.types.end(), e.token_type_ids.begin(), e.token_type_ids.end());
      b.mask.insert(b.mask.end(), e.attention_mask.begin(), e.attention_mask.end());
    }
    expect_close(model.forward(b.inputs()).to_vector(), flatten(exp["logits"]), 1e-4, 1e-5, variant);
  }
}

TEST(Bert, EachTextGivesTheSameLogitsAloneAsInAPaddedBatch) {
  const auto dir = fixtures_dir() / "bert-small";
  auto model = models::BertForSequenceClassification::from_pretrained(dir);
  auto exp = load_json(dir / "expected.json");
  Batch all = batch_from(exp["input_ids"], exp["token_type_ids"], exp["attention_mask"]);
  std::vector<float> batched = model.forward(all.inputs()).to_vector();
  for (int64_t i = 0; i < all.batch; ++i) {
    int64_t len = 0;
    while (len < all.seq && all.mask[i * all.seq + len]) ++len;
    std::vector<int32_t> ids(all.ids.begin() + i * all.seq, all.ids.begin() + i * all.seq + len);
    std::vector<int32_t> types(len, 0), mask(len, 1);
    std::vector<float> alone = model.forward({1, len, ids.data(), types.data(), mask.data()}).to_vector();
    expect_close(alone, {batched[2 * i], batched[2 * i + 1]}, 1e-5, 1e-6, "text " + std::to_string(i));
  }
}

TEST(Bert, RejectsIdsOutsideTheVocabularyAndOverlongSequences) {
  auto model = models::BertForSequenceClassification::from_pretrained(fixtures_dir() / "bert-tiny");
  std::vector<int32_t> ids = {101, 40000, 102}, types(3, 0), mask(3, 1);
  try {
    model.forward({1, 3, ids.data(), types.data(), mask.data()});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("40000"), std::string::npos) << e.what();
  }
  // One past bert-tiny's max_position_embeddings (128).
  std::vector<int32_t> long_ids(129, 1000), long_types(129, 0), long_mask(129, 1);
  EXPECT_THROW(model.forward({1, 129, long_ids.data(), long_types.data(), long_mask.data()}), Error);
}

TEST(BertConfig, BadFieldsNameTheFileAndField) {
  auto parse = [](const char* text) {
    return models::BertConfig::from_json(nlohmann::json::parse(text), "dir/config.json");
  };
  EXPECT_EQ(parse("{}").num_labels(), 2);
  EXPECT_EQ(parse(R"({"num_labels": 3})").id2label[2], "LABEL_2");
  EXPECT_EQ(parse(R"({"id2label": {"0": "neg", "1": "pos"}})").id2label[1], "pos");
  EXPECT_EQ(parse(R"({"hidden_act": "gelu_new"})").hidden_act, kernels::Activation::GeluTanh);
  for (const char* bad : {R"({"hidden_size": "big"})", R"({"hidden_size": 30, "num_attention_heads": 4})",
                          R"({"hidden_act": "swiglu"})", R"({"num_hidden_layers": -1})",
                          R"({"position_embedding_type": "relative_key"})"}) {
    try {
      parse(bad);
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("dir/config.json"), std::string::npos) << e.what();
    }
  }
}
