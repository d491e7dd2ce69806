// BertTokenizer behaviour beyond the reference fixtures: hostile input
// (invalid UTF-8, huge texts), loading errors, truncation/padding edge cases
// and the Unicode details of transformers' BasicTokenizer.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tformer/core/error.h"
#include "tformer/tokenizers/basic_tokenizer.h"
#include "tformer/tokenizers/bert_tokenizer.h"

namespace tk = tformer::tokenizers;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using Ids = std::vector<int32_t>;

namespace {

const std::string kVocabDir = std::string(TFORMER_SHARED_DIR) + "/vocab/bert-base-uncased";

const tk::BertTokenizer& uncased() {
  static const tk::BertTokenizer tokenizer = tk::BertTokenizer::from_pretrained(TFORMER_SHARED_DIR "/fixtures/bert-tiny");
  return tokenizer;
}

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("tformer_tok_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return path_ / name;
  }

 private:
  fs::path path_;
};

// Runs `fn`, expecting a tformer::Error whose message contains `needle`.
template <class F>
void expect_error_containing(F&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing: " << needle;
  } catch (const tformer::Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

}  // namespace

TEST(TokenizerHostile, InvalidUtf8ThrowsNamingTheByte) {
  const std::vector<std::pair<std::string, size_t>> cases = {
      {"\x80" "abc", 0},                 // lone continuation byte
      {"ab\xC3", 2},                     // truncated two-byte sequence
      {"abc\xE2\x82", 3},                // truncated three-byte sequence
      {"x\xE2\x82y", 1},                 // continuation missing mid-text
      {"a\xC0\xAF", 1},                  // overlong '/'
      {"\xE0\x80\xAF", 0},               // overlong three-byte
      {"ok \xF0\x82\x82\xAC", 3},        // overlong four-byte
      {"x\xED\xA0\x80", 1},              // UTF-16 surrogate D800
      {"\xF4\x90\x80\x80", 0},           // above U+10FFFF
      {"caf\xC3\xA9 \xFF", 6},           // a byte that never occurs
  };
  for (const auto& [text, offset] : cases) {
    const std::string needle = "invalid UTF-8 at byte " + std::to_string(offset);
    expect_error_containing([&] { uncased().encode(text); }, needle);
    expect_error_containing([&] { uncased().tokenize(text); }, needle);
    expect_error_containing([&] { uncased().encode_pair("fine", text); }, needle);
  }
}

TEST(TokenizerHostile, EmptyAndBlankTextsGiveOnlySpecialTokens) {
  for (const std::string& text : Strings{"", "   ", "\t\n\r ", std::string("\0\0", 2), "\xE2\x80\x8B"}) {
    const tk::Encoding encoding = uncased().encode(text);
    EXPECT_EQ(encoding.tokens, (Strings{"[CLS]", "[SEP]"}));
    EXPECT_EQ(encoding.input_ids, (Ids{101, 102}));
  }
  EXPECT_EQ(uncased().encode_pair("", "").input_ids, (Ids{101, 102, 102}));
  EXPECT_EQ(uncased().decode({}), "");
}

TEST(TokenizerHostile, OneMegabyteTextsAreFast) {
  std::string prose, accented, one_word(1 << 20, 'a');
  while (prose.size() < (1 << 20)) prose += "The quick brown fox, naïvely 東京 jumps! ";
  while (accented.size() < (1 << 20)) accented += "Ελληνικά Ångström café ";
  for (const std::string* text : {&prose, &accented, &one_word}) {
    const auto start = std::chrono::steady_clock::now();
    const tk::Encoding encoding = uncased().encode(*text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The time limit holds for optimized builds; Debug and sanitizer builds
    // only check that nothing breaks.
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
    EXPECT_LT(seconds, 1.0) << text->substr(0, 20);
#else
    (void)seconds;
#endif
    EXPECT_GT(encoding.size(), 2u);
  }
  EXPECT_EQ(uncased().tokenize(one_word), Strings{"[UNK]"});
}

TEST(TokenizerLoading, MissingFilesAreErrorsNamingThePath) {
  expect_error_containing([] { tk::BertTokenizer::from_vocab_file("/nonexistent/vocab.txt", {}); },
                          "/nonexistent/vocab.txt");
  expect_error_containing([] { tk::BertTokenizer::from_pretrained("/nonexistent/model"); }, "/nonexistent/model");
  expect_error_containing([] { tk::BertTokenizer::from_tokenizer_json("/nonexistent/tokenizer.json"); },
                          "/nonexistent/tokenizer.json");
  TempDir empty;
  expect_error_containing([&] { tk::BertTokenizer::from_pretrained(empty.path()); }, "neither vocab.txt nor tokenizer.json");
}

TEST(TokenizerLoading, VocabularyWithoutSpecialTokensIsRefused) {
  TempDir dir;
  const auto no_unk = dir.write("no_unk.txt", "[PAD]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
  expect_error_containing([&] { tk::BertTokenizer::from_vocab_file(no_unk, {}); }, "'[UNK]' is not in the vocabulary");
  const auto no_sep = dir.write("no_sep.txt", "[PAD]\n[UNK]\n[CLS]\nhello\n");
  expect_error_containing([&] { tk::BertTokenizer::from_vocab_file(no_sep, {}); }, "'[SEP]'");
  expect_error_containing([&] { tk::BertTokenizer::from_vocab_file(dir.write("empty.txt", ""), {}); }, "empty");
  expect_error_containing([&] { tk::BertTokenizer::from_vocab_file(dir.write("bad.txt", "[PAD]\n\xFF\n"), {}); },
                          "invalid UTF-8 at byte 6");
  dir.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
  dir.write("tokenizer_config.json", "{\"do_lower_case\": \"yes\"}");
  expect_error_containing([&] { tk::BertTokenizer::from_pretrained(dir.path()); }, "do_lower_case");
}

TEST(TokenizerLoading, SmallVocabularyWithCrLfAndConfig) {
  TempDir dir;
  dir.write("vocab.txt", "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\nKeep_Me\r\n");
  dir.write("tokenizer_config.json",
            R"({"do_lower_case": true, "never_split": ["Keep_Me", "keep_me"], "model_max_length": 1e30,
                "unk_token": {"content": "[UNK]", "__type": "AddedToken"}})");
  const auto tokenizer = tk::BertTokenizer::from_pretrained(dir.path());
  EXPECT_EQ(tokenizer.vocab_size(), 7u);
  EXPECT_EQ(tokenizer.token_to_id("hello"), 4);
  EXPECT_EQ(tokenizer.token_to_id("absent"), -1);
  EXPECT_EQ(tokenizer.id_to_token(5), "##s");
  EXPECT_THROW(tokenizer.id_to_token(7), tformer::Error);
  EXPECT_EQ(tokenizer.model_max_length(), tk::kNoModelMaxLength);
  // Lower-casing happens before never_split is consulted (as transformers),
  // so only the lower-case spelling is kept whole; it is not in the vocabulary.
  EXPECT_EQ(tokenizer.tokenize("HELLOS Keep_Me"), (Strings{"hello", "##s", "keep_me"}));
  EXPECT_EQ(tokenizer.encode("Keep_Me").input_ids, (Ids{2, 1, 3}));
  // No model limit: truncation without max_length leaves the text whole.
  tk::EncodeOptions opt;
  opt.truncation = tk::Truncation::LongestFirst;
  EXPECT_EQ(tokenizer.encode("hello hello hello", opt).size(), 5u);
}

TEST(TokenizerLoading, TokenizerJsonIsUsedWithoutVocabTxt) {
  TempDir dir;
  fs::copy_file(kVocabDir + "/tokenizer.json", dir.path() / "tokenizer.json");
  dir.write("tokenizer_config.json", R"({"model_max_length": 256})");
  const auto tokenizer = tk::BertTokenizer::from_pretrained(dir.path());
  EXPECT_EQ(tokenizer.model_max_length(), 256u);
  EXPECT_EQ(tokenizer.encode_pair("Héllo [MASK]!", "again").input_ids,
            (Ids{101, 7592, 103, 999, 102, 2153, 102}));
}

TEST(TokenizerEncode, SpecialTokensInTextAreMatchedAsWritten) {
  EXPECT_EQ(uncased().tokenize("a [MASK] b"), (Strings{"a", "[MASK]", "b"}));
  EXPECT_EQ(uncased().tokenize("a [mask] b"), (Strings{"a", "[", "mask", "]", "b"}));
  EXPECT_EQ(uncased().tokenize("[SEP][SEP]x[PAD]"), (Strings{"[SEP]", "[SEP]", "x", "[PAD]"}));
}

TEST(TokenizerEncode, TruncationEdgeCases) {
  const std::string text = "one two three four five six";  // 6 tokens
  tk::EncodeOptions opt;
  opt.max_length = 5;
  opt.truncation = tk::Truncation::LongestFirst;
  EXPECT_EQ(uncased().encode(text, opt).tokens, (Strings{"[CLS]", "one", "two", "three", "[SEP]"}));
  // transformers leaves a sequence untouched when it cannot remove enough.
  opt.max_length = 1;
  EXPECT_EQ(uncased().encode(text, opt).size(), 8u);
  opt.max_length = 5;
  opt.truncation = tk::Truncation::OnlySecond;  // nothing to do for one text
  EXPECT_EQ(uncased().encode(text, opt).size(), 8u);
  opt.truncation = tk::Truncation::OnlyFirst;
  EXPECT_EQ(uncased().encode_pair("a b", text, opt).size(), 11u);  // first too short
  opt.truncation = tk::Truncation::None;  // max_length alone never truncates
  EXPECT_EQ(uncased().encode(text, opt).size(), 8u);

  // Truncation or padding without max_length use model_max_length (128).
  std::string long_text;
  for (int i = 0; i < 700; ++i) long_text += "word ";
  tk::EncodeOptions model_limit;
  model_limit.truncation = tk::Truncation::LongestFirst;
  EXPECT_EQ(uncased().encode(long_text, model_limit).size(), 128u);
  tk::EncodeOptions pad_to_model;
  pad_to_model.padding = tk::Padding::MaxLength;
  const tk::Encoding padded = uncased().encode("hi", pad_to_model);
  EXPECT_EQ(padded.size(), 128u);
  EXPECT_EQ(padded.tokens.back(), "[PAD]");
  EXPECT_EQ(padded.attention_mask[2], 1);
  EXPECT_EQ(padded.attention_mask[3], 0);
}

TEST(TokenizerEncode, WithoutSpecialTokensAndBatchPadding) {
  tk::EncodeOptions opt;
  opt.add_special_tokens = false;
  const tk::Encoding pair = uncased().encode_pair("hello world", "again", opt);
  EXPECT_EQ(pair.input_ids, (Ids{7592, 2088, 2153}));
  EXPECT_EQ(pair.token_type_ids, (Ids{0, 0, 0}));

  tk::EncodeOptions longest;
  longest.padding = tk::Padding::Longest;
  const auto batch = uncased().encode_batch({"a", "a b c", ""}, {}, longest);
  for (const auto& encoding : batch) EXPECT_EQ(encoding.size(), 5u);
  EXPECT_EQ(batch[0].attention_mask, (Ids{1, 1, 1, 0, 0}));
  EXPECT_EQ(uncased().encode("a", longest).size(), 3u);  // one text: nothing to pad to
  expect_error_containing([&] { uncased().encode_batch({"a", "b"}, {"c"}, longest); }, "1 pair texts for 2 texts");
}

TEST(TokenizerDecode, CleanUpAndUnknownIds) {
  const tk::Encoding encoding = uncased().encode("I'm sure you've seen it, haven't you?");
  EXPECT_EQ(uncased().decode(encoding.input_ids, true), "i'm sure you've seen it, haven't you?");
  EXPECT_EQ(uncased().decode(encoding.input_ids, true, false), "i ' m sure you ' ve seen it , haven ' t you ?");
  EXPECT_EQ(uncased().decode({7592, 999999, -5}), "hello [UNK] [UNK]");
  EXPECT_EQ(uncased().decode({101, 100, 103, 0, 102}, true), "");
}

TEST(TokenizerUnicode, BasicTokenizerFollowsPython) {
  tk::BasicTokenizerOptions keep_accents;
  keep_accents.strip_accents = false;
  Strings words;
  // U+0130 lower-cases to "i" + combining dot (Python's full mapping).
  tk::BasicTokenizer(keep_accents).tokenize("\xC4\xB0stanbul", words);
  EXPECT_EQ(words, Strings{"i\xCC\x87stanbul"});
  words.clear();
  tk::BasicTokenizer(tk::BasicTokenizerOptions{}).tokenize("\xC4\xB0STANBUL", words);
  EXPECT_EQ(words, Strings{"istanbul"});
  // Σ lower-cases character by character: σ, never the final form ς.
  words.clear();
  tk::BasicTokenizer(tk::BasicTokenizerOptions{}).tokenize("\xCE\x9F\xCE\xA3", words);
  EXPECT_EQ(words, Strings{"\xCE\xBF\xCF\x83"});
  // U+2028 splits words (str.split); private-use U+E000 is dropped (category Co).
  words.clear();
  tk::BasicTokenizer(tk::BasicTokenizerOptions{}).tokenize("a\xE2\x80\xA8" "b c\xEE\x80\x80" "d", words);
  EXPECT_EQ(words, (Strings{"a", "b", "cd"}));
  // Without lower-casing, decomposed text is NFC-composed before splitting.
  tk::BasicTokenizerOptions cased;
  cased.lowercase = false;
  words.clear();
  tk::BasicTokenizer(cased).tokenize("Cafe\xCC\x81!", words);
  EXPECT_EQ(words, (Strings{"Caf\xC3\xA9", "!"}));
}
