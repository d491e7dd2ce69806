// BertTokenizer against the reference outputs of transformers' BertTokenizer
// (../shared/fixtures): every single-text and pair case, the tokenizer.json
// loader, and the batch encodings the bert-tiny model fixture was made with.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tformer/tokenizers/bert_tokenizer.h"

namespace tk = tformer::tokenizers;
using nlohmann::json;

namespace {

const std::string kShared = TFORMER_SHARED_DIR;
const std::string kVocabDir = kShared + "/vocab/bert-base-uncased";

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::vector<json> cases;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

const tk::BertTokenizer& vocab_txt_tokenizer() {
  // bert-base-uncased's tokenizer_config: do_lower_case true (the default).
  static const tk::BertTokenizer tokenizer =
      tk::BertTokenizer::from_vocab_file(kVocabDir + "/vocab.txt", tk::BertTokenizerConfig{});
  return tokenizer;
}

tk::EncodeOptions options_of(const json& c) {
  tk::EncodeOptions opt;
  if (!c["max_length"].is_null()) opt.max_length = c["max_length"].get<size_t>();
  const std::string truncation = c["truncation"].is_null() ? "" : c["truncation"].get<std::string>();
  if (truncation == "longest_first") opt.truncation = tk::Truncation::LongestFirst;
  if (truncation == "only_first") opt.truncation = tk::Truncation::OnlyFirst;
  if (truncation == "only_second") opt.truncation = tk::Truncation::OnlySecond;
  if (c["padding"] == "max_length") opt.padding = tk::Padding::MaxLength;
  return opt;
}

void expect_encoding(const tk::Encoding& got, const json& ids, const json& type_ids, const json& mask,
                     const std::string& label) {
  EXPECT_EQ(got.input_ids, ids.get<std::vector<int32_t>>()) << label;
  EXPECT_EQ(got.token_type_ids, type_ids.get<std::vector<int32_t>>()) << label;
  EXPECT_EQ(got.attention_mask, mask.get<std::vector<int32_t>>()) << label;
  EXPECT_EQ(got.tokens.size(), got.input_ids.size()) << label;
}

}  // namespace

TEST(TokenizerFixtures, SingleTextsMatchTransformers) {
  const auto cases = read_jsonl(kShared + "/fixtures/tokenizer/single.jsonl");
  ASSERT_EQ(cases.size(), 49u);
  const auto& tokenizer = vocab_txt_tokenizer();
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const std::string label = "text: " + c["text"].dump();
    EXPECT_EQ(tokenizer.tokenize(text), c["tokens"].get<std::vector<std::string>>()) << label;
    const tk::Encoding encoding = tokenizer.encode(text);
    expect_encoding(encoding, c["input_ids"], c["token_type_ids"], c["attention_mask"], label);
    EXPECT_EQ(tokenizer.decode(encoding.input_ids), c["decode"].get<std::string>()) << label;
    EXPECT_EQ(tokenizer.decode(encoding.input_ids, true), c["decode_skip_special"].get<std::string>()) << label;
  }
}

TEST(TokenizerFixtures, PairsWithTruncationAndPaddingMatchTransformers) {
  const auto cases = read_jsonl(kShared + "/fixtures/tokenizer/pairs.jsonl");
  ASSERT_EQ(cases.size(), 138u);
  const auto& tokenizer = vocab_txt_tokenizer();
  for (const auto& c : cases) {
    const std::string label = "pair: " + c["text"].dump() + " / " + c["text_pair"].dump() +
                              " max_length " + c["max_length"].dump() + " " + c["truncation"].dump();
    const tk::Encoding encoding = tokenizer.encode_pair(c["text"].get<std::string>(),
                                                        c["text_pair"].get<std::string>(), options_of(c));
    expect_encoding(encoding, c["input_ids"], c["token_type_ids"], c["attention_mask"], label);
  }
}

TEST(TokenizerFixtures, TokenizerJsonGivesTheSameIds) {
  const auto tokenizer = tk::BertTokenizer::from_tokenizer_json(kVocabDir + "/tokenizer.json");
  EXPECT_EQ(tokenizer.vocab_size(), vocab_txt_tokenizer().vocab_size());
  EXPECT_EQ(tokenizer.pad_token_id(), 0);
  EXPECT_EQ(tokenizer.model_max_length(), 512u);
  for (const auto& c : read_jsonl(kShared + "/fixtures/tokenizer/single.jsonl")) {
    const tk::Encoding encoding = tokenizer.encode(c["text"].get<std::string>());
    expect_encoding(encoding, c["input_ids"], c["token_type_ids"], c["attention_mask"], "text: " + c["text"].dump());
  }
}

TEST(TokenizerFixtures, BertTinyBatchEncodingsMatch) {
  const std::string dir = kShared + "/fixtures/bert-tiny";
  const auto tokenizer = tk::BertTokenizer::from_pretrained(dir);
  EXPECT_EQ(tokenizer.model_max_length(), 128u);
  std::ifstream file(dir + "/expected.json");
  const json expected = json::parse(file);
  tk::EncodeOptions opt;
  opt.max_length = 128;
  opt.truncation = tk::Truncation::LongestFirst;
  opt.padding = tk::Padding::Longest;

  const auto texts = expected["texts"].get<std::vector<std::string>>();
  ASSERT_EQ(texts.size(), 20u);
  const auto batch = tokenizer.encode_batch(texts, {}, opt);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    expect_encoding(batch[i], expected["input_ids"][i], expected["token_type_ids"][i], expected["attention_mask"][i],
                    "texts[" + std::to_string(i) + "]");
  }

  std::vector<std::string> firsts, seconds;
  for (const auto& pair : expected["pairs"]) {
    firsts.push_back(pair[0]);
    seconds.push_back(pair[1]);
  }
  const auto pair_batch = tokenizer.encode_batch(firsts, seconds, opt);
  for (size_t i = 0; i < firsts.size(); ++i) {
    expect_encoding(pair_batch[i], expected["pair_input_ids"][i], expected["pair_token_type_ids"][i],
                    expected["pair_attention_mask"][i], "pairs[" + std::to_string(i) + "]");
  }
}
