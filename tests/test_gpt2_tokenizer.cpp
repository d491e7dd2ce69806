// GPT-2's byte-level BPE tokenizer against transformers 4.43's GPT2Tokenizer
// (../shared/fixtures/gpt2-tiny): encoding, decoding, streaming the decoded
// text, the same tokenizer read from a tokenizer.json, the pre-tokenizer
// against Python `regex`'s findall, hostile files, speed and threads.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "test_io_support.h"
#include "test_util.h"
#include "tformer/tokenizers/byte_level_bpe.h"
#include "tformer/tokenizers/gpt2_tokenizer.h"

namespace tk = tformer::tokenizers;
namespace fs = std::filesystem;
using nlohmann::json;
using tformer::io::testing::expect_error;
using tformer::io::testing::TempDir;
using tformer::io::testing::write_bytes;

namespace {

fs::path gpt2_dir() { return tformer::testing::fixtures_dir() / "gpt2-tiny"; }

std::vector<json> read_jsonl(const fs::path& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::vector<json> lines;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

const tk::Gpt2Tokenizer& gpt2() {
  static const std::unique_ptr<tk::Gpt2Tokenizer> tokenizer = tk::Gpt2Tokenizer::from_pretrained(gpt2_dir());
  return *tokenizer;
}

// merges.txt's rules, without its "#version" line.
std::vector<std::string> merge_lines() {
  std::ifstream file(gpt2_dir() / "merges.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (!line.empty() && !line.starts_with("#version")) lines.push_back(line);
  }
  return lines;
}

// GPT-2's tokenizer.json as the tokenizers library writes it; `pair_merges`
// writes each merge as ["left", "right"] (tokenizers ≥ 0.20), not "left right".
json gpt2_tokenizer_json(bool pair_merges) {
  json merges = json::array();
  for (const std::string& line : merge_lines()) {
    const size_t space = line.find(' ');
    if (pair_merges) {
      merges.push_back({line.substr(0, space), line.substr(space + 1)});
    } else {
      merges.push_back(line);
    }
  }
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                           {"use_regex", true}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens",
           {{{"id", 50256}, {"content", "<|endoftext|>"}, {"single_word", false}, {"lstrip", false},
             {"rstrip", false}, {"normalized", true}, {"special", true}}}},
          {"normalizer", nullptr},
          {"pre_tokenizer", byte_level},
          {"post_processor", byte_level},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
            {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false},
            {"vocab", tformer::testing::load_json(gpt2_dir() / "vocab.json")}, {"merges", merges}}}};
}

void expect_matches_fixture(const tk::Tokenizer& tokenizer, const std::string& label) {
  for (const json& c : read_jsonl(gpt2_dir() / "tokenizer.jsonl")) {
    const std::string text = c["text"];
    const tk::Encoding e = tokenizer.encode(text);
    EXPECT_EQ(e.tokens, c["tokens"].get<std::vector<std::string>>()) << label << ": " << text;
    EXPECT_EQ(e.input_ids, c["input_ids"].get<std::vector<int32_t>>()) << label << ": " << text;
    EXPECT_EQ(e.attention_mask, std::vector<int32_t>(e.size(), 1));
    EXPECT_EQ(e.token_type_ids, std::vector<int32_t>(e.size(), 0));
    EXPECT_EQ(tokenizer.decode(e.input_ids), c["decode"].get<std::string>()) << label << ": " << text;
  }
}

std::string stream_decode(const tk::Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  tk::StreamDecoder stream;
  std::string text;
  for (int32_t id : ids) text += stream.push(tokenizer.token_bytes(id));
  return text + stream.finish();
}

}  // namespace

TEST(Gpt2TokenizerFixtures, EveryTokenizerCaseMatchesTransformers) {
  expect_matches_fixture(gpt2(), "vocab.json");
  EXPECT_EQ(gpt2().vocab_size(), 50257u);
  EXPECT_EQ(gpt2().merges_size(), 50000u);
  EXPECT_EQ(gpt2().bos_token_id(), 50256);
  EXPECT_EQ(gpt2().eos_token_id(), 50256);
  EXPECT_TRUE(gpt2().is_special_id(50256));
  EXPECT_FALSE(gpt2().is_special_id(995));
  EXPECT_EQ(gpt2().kind(), "byte-level BPE");
  EXPECT_TRUE(tk::Gpt2Tokenizer::recognizes(gpt2_dir()));
}

TEST(Gpt2TokenizerFixtures, GeneratePromptsMatchTransformers) {
  const auto prompts = read_jsonl(gpt2_dir() / "generate.jsonl");
  ASSERT_FALSE(prompts.empty());
  for (const json& p : prompts) {
    EXPECT_EQ(gpt2().encode(p["prompt"].get<std::string>()).input_ids, p["input_ids"].get<std::vector<int32_t>>())
        << p["prompt"];
  }
}

TEST(Gpt2TokenizerFixtures, SpecialTokensDecodeAndSkip) {
  const std::vector<int32_t> ids = gpt2().encode("Hello<|endoftext|> world").input_ids;
  EXPECT_EQ(ids, (std::vector<int32_t>{15496, 50256, 995}));
  EXPECT_EQ(gpt2().decode(ids), "Hello<|endoftext|> world");
  EXPECT_EQ(gpt2().decode(ids, /*skip_special_tokens=*/true), "Hello world");
  EXPECT_TRUE(gpt2().encode("").input_ids.empty());
}

TEST(Gpt2TokenizerFixtures, DecodeCleansUpTokenizationSpacesAsConfigured) {
  const std::vector<int32_t> ids = gpt2().encode("Hello , world . I 'm").input_ids;
  EXPECT_EQ(gpt2().decode(ids), "Hello, world. I'm");  // tokenizer_config: clean_up_tokenization_spaces true
  tk::Gpt2TokenizerConfig config;
  config.clean_up_tokenization_spaces = false;
  const auto raw = tk::Gpt2Tokenizer::from_files(gpt2_dir() / "vocab.json", gpt2_dir() / "merges.txt", config);
  EXPECT_EQ(raw->decode(ids), "Hello , world . I 'm");
}

TEST(Gpt2TokenizerFixtures, AddBosTokenAndPrefixSpaceFromTheConfig) {
  tk::Gpt2TokenizerConfig config;
  config.add_bos_token = true;
  config.add_prefix_space = true;
  const auto tokenizer = tk::Gpt2Tokenizer::from_files(gpt2_dir() / "vocab.json", gpt2_dir() / "merges.txt", config);
  EXPECT_EQ(tokenizer->encode("Hello world").input_ids, (std::vector<int32_t>{50256, 18435, 995}));
  EXPECT_EQ(tokenizer->encode("Hello world", /*add_special_tokens=*/false).input_ids,
            (std::vector<int32_t>{18435, 995}));
}

TEST(Gpt2TokenizerJson, TokenizerJsonGivesTheSameResults) {
  TempDir dir;
  write_bytes(dir / "tokenizer.json", gpt2_tokenizer_json(/*pair_merges=*/false).dump());
  EXPECT_TRUE(tk::Gpt2Tokenizer::recognizes(dir.path()));
  const auto tokenizer = tk::Gpt2Tokenizer::from_pretrained(dir.path());
  expect_matches_fixture(*tokenizer, "tokenizer.json");
  EXPECT_EQ(tokenizer->vocab_size(), 50257u);
  EXPECT_EQ(tokenizer->eos_token_id(), 50256);
  EXPECT_TRUE(tokenizer->is_special_id(50256));
}

TEST(Gpt2TokenizerJson, PairMergesAndASequencePreTokenizer) {
  TempDir dir;
  json file = gpt2_tokenizer_json(/*pair_merges=*/true);
  file["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {file["pre_tokenizer"]}}};
  write_bytes(dir / "tokenizer.json", file.dump());
  expect_matches_fixture(*tk::Gpt2Tokenizer::from_tokenizer_json(dir / "tokenizer.json"), "Sequence");
}

TEST(Gpt2TokenizerJson, OtherModelsAndComponentsAreRefused) {
  TempDir dir;
  const fs::path path = dir / "tokenizer.json";
  // `recognized`: whether a loader would still take the directory for GPT-2's
  // (recognizes() looks only at the model and the pre-tokenizer).
  auto refuse = [&](const std::string& field, const json& value, bool recognized,
                    std::initializer_list<std::string> fragments) {
    json file = gpt2_tokenizer_json(false);
    if (field == "model.type") {
      file["model"]["type"] = value;
    } else {
      file[field] = value;
    }
    write_bytes(path, file.dump());
    expect_error([&] { tk::Gpt2Tokenizer::from_tokenizer_json(path); }, fragments);
    EXPECT_EQ(tk::Gpt2Tokenizer::recognizes(dir.path()), recognized) << field;
  };
  refuse("model.type", "WordPiece", false, {path.string(), "model.type", "WordPiece is not BPE"});
  refuse("pre_tokenizer", {{"type", "Whitespace"}}, false, {path.string(), "pre_tokenizer", "Whitespace"});
  const json split_then_byte_level = {{"type", "Sequence"},
                                      {"pretokenizers", json::array({{{"type", "Split"}}, {{"type", "ByteLevel"}}})}};
  refuse("pre_tokenizer", split_then_byte_level, false, {path.string(), "pre_tokenizer", "Sequence"});
  refuse("normalizer", {{"type", "NFC"}}, true, {path.string(), "normalizer", "NFC"});
  refuse("decoder", {{"type", "WordPiece"}}, true, {path.string(), "decoder", "WordPiece"});
}

TEST(Gpt2TokenizerStream, TokenBytesStreamToTheDecodedText) {
  std::vector<std::string> texts;
  for (const json& c : read_jsonl(gpt2_dir() / "tokenizer.jsonl")) texts.push_back(c["text"]);
  texts.push_back("東京都 😀🙂 naïve — «ça» 한국어 \u0e44\u0e17\u0e22");
  for (const std::string& text : texts) {
    const std::vector<int32_t> ids = gpt2().encode(text).input_ids;
    EXPECT_EQ(stream_decode(gpt2(), ids), gpt2().decode(ids)) << text;
    EXPECT_EQ(stream_decode(gpt2(), ids), text);
  }
  // "😀" is split over two tokens: nothing comes out until its last byte does.
  const std::vector<int32_t> emoji = gpt2().encode("\U0001F600").input_ids;
  ASSERT_GE(emoji.size(), 2u);
  tk::StreamDecoder stream;
  EXPECT_EQ(stream.push(gpt2().token_bytes(emoji[0])), "");
  std::string rest;
  for (size_t i = 1; i < emoji.size(); ++i) rest += stream.push(gpt2().token_bytes(emoji[i]));
  EXPECT_EQ(rest, "\U0001F600");
  EXPECT_EQ(gpt2().token_bytes(220), " ");
  EXPECT_EQ(gpt2().token_bytes(198), "\n");
}

TEST(Gpt2TokenizerStream, DecodeReplacesInvalidUtf8AsPython) {
  // The first token of "東" alone: bytes E6 9D, a character cut short, which
  // Python's errors="replace" turns into one U+FFFD.
  const std::vector<int32_t> ids = gpt2().encode("東").input_ids;
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(gpt2().decode({ids[0]}), "\xEF\xBF\xBD");
  EXPECT_EQ(gpt2().decode({ids.back(), 15496}), "\xEF\xBF\xBDHello");
}

TEST(Gpt2TokenizerPreTokenizer, SplitsAsPythonRegexFindall) {
  // Expected pieces from Python's `regex` module running GPT-2's pattern.
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"Hello world", {"Hello", " world"}},
      {"  a\t\tb  \n", {" ", " a", "\t", "\t", "b", "  \n"}},
      {"I'M you're ?'s 'x", {"I", "'", "M", " you", "'re", " ?'", "s", " '", "x"}},
      {"x\u00a0y\u3000 z\u2003\u2003w", {"x", "\u00a0", "y", "\u3000", " z", "\u2003", "\u2003", "w"}},
      {"a\x1c" "b", {"a", "\x1c", "b"}},
      {"\u0661\u0662\u0663 \u00bd \u2163", {"\u0661\u0662\u0663", " \u00bd", " \u2163"}},
      {"e\u0301t \U0001F600!!", {"e", "\u0301", "t", " \U0001F600!!"}},
      {" 'll'd", {" '", "ll", "'d"}},
      {"a  ", {"a", "  "}},
      {"'", {"'"}},
      {"", {}},
  };
  for (const auto& [text, expected] : cases) {
    const auto words = tk::byte_level::split_words(text);
    EXPECT_EQ(std::vector<std::string>(words.begin(), words.end()), expected) << text;
  }
}

TEST(Gpt2TokenizerPreTokenizer, ByteAlphabetRoundTrips) {
  EXPECT_EQ(tk::byte_level::to_alphabet(" a\n"), "\u0120a\u010a");
  for (unsigned b = 0; b < 256; ++b) {
    EXPECT_EQ(tk::byte_level::char_to_byte(tk::byte_level::byte_to_char(uint8_t(b))), b);
  }
  EXPECT_EQ(tk::byte_level::char_to_byte(U' '), std::nullopt);
  EXPECT_EQ(tk::byte_level::char_to_byte(0x144), std::nullopt);
  EXPECT_EQ(tk::byte_level::from_alphabet("<pad> x"), std::nullopt);
}

TEST(Gpt2TokenizerPreTokenizer, MergesEveryPairOfARankBeforeTheNext) {
  // Symbols b=0, c=1, "bc"=2, "bcb"=3, "bcbc"=4. (b, c) ranks first; the pair
  // (bc, b) it creates ranks lower still, but GPT-2's bpe() merges every
  // (b, c) first, then (bc, bc).
  tk::byte_level::BpeMerges merges;
  merges.add(0, 1, 2);  // rank 0: b c
  merges.add(2, 0, 3);  // rank 1: bc b
  merges.add(2, 2, 4);  // rank 2: bc bc
  std::vector<int32_t> word = {0, 1, 0, 1};
  merges.apply(word);
  EXPECT_EQ(word, std::vector<int32_t>({4}));
  // a a a → aa a: occurrences of one pair merge left to right, not overlapping.
  tk::byte_level::BpeMerges doubles;
  doubles.add(0, 0, 1);
  std::vector<int32_t> three = {0, 0, 0};
  doubles.apply(three);
  EXPECT_EQ(three, std::vector<int32_t>({1, 0}));
}

TEST(Gpt2TokenizerHostile, BadMergesAndVocabularies) {
  TempDir dir;
  const fs::path vocab = dir / "vocab.json", merges = dir / "merges.txt";
  const std::string good_vocab = R"({"a": 0, "b": 1, "ab": 2, "\u0120": 3})";
  auto load = [&] { tk::Gpt2Tokenizer::from_files(vocab, merges); };
  auto expect_refused = [&](const std::string& vocab_text, const std::string& merges_text,
                            std::initializer_list<std::string> fragments) {
    write_bytes(vocab, vocab_text);
    write_bytes(merges, merges_text);
    expect_error(load, fragments);
  };
  write_bytes(vocab, good_vocab);
  write_bytes(merges, "#version: 0.2\na b\n");
  EXPECT_EQ(tk::Gpt2Tokenizer::from_files(vocab, merges)->encode("abba").input_ids,
            (std::vector<int32_t>{2, 1, 0}));

  expect_refused(good_vocab, "#version: 0.2\na b c\n", {merges.string(), "line 2", "expected two tokens"});
  expect_refused(good_vocab, "#version: 0.2\na\n", {merges.string(), "line 2", "got 1"});
  expect_refused(good_vocab, "a b\nx b\n", {merges.string(), "line 2", "\"x\" is not in the vocabulary"});
  expect_refused(good_vocab, "b a\n", {merges.string(), "line 1", "merged token \"ba\""});
  expect_refused(good_vocab, "a \xff\n", {merges.string(), "invalid UTF-8 at byte 2"});
  expect_refused(R"({"a": 0, "b": 0})", "", {vocab.string(), "\"b\"", "id 0 is also token \"a\""});
  expect_refused(R"(["a", "b"])", "", {vocab.string(), "expected an object"});
  expect_refused(R"({"a": "0"})", "", {vocab.string(), "\"a\"", "expected an integer"});
  expect_refused(R"({"a": 1000000000})", "", {vocab.string(), "\"a\"", "expected an integer in [0, 0]"});
  expect_refused(R"({"a": -1, "b": 1})", "", {vocab.string(), "\"a\""});
  expect_refused(R"({"a": 0.5})", "", {vocab.string(), "\"a\""});
  expect_refused(R"({})", "", {vocab.string(), "empty"});
  expect_refused(R"({"a": 0)", "", {vocab.string(), "invalid JSON"});
  fs::remove(merges);
  write_bytes(vocab, good_vocab);
  expect_error(load, {merges.string(), "cannot read"});
  expect_error([&] { tk::Gpt2Tokenizer::from_pretrained(dir / "missing"); }, {"vocab.json", "cannot read"});
}

TEST(Gpt2TokenizerHostile, BadConfigsAndAddedTokens) {
  TempDir dir;
  fs::copy_file(gpt2_dir() / "vocab.json", dir / "vocab.json");
  fs::copy_file(gpt2_dir() / "merges.txt", dir / "merges.txt");
  const fs::path config = dir / "tokenizer_config.json";
  write_bytes(config, R"({"added_tokens_decoder": {"1000000000": {"content": "<x>", "special": true}}})");
  expect_error([&] { tk::Gpt2Tokenizer::from_pretrained(dir.path()); },
               {"<x>", "id 1000000000", "past the vocabulary"});
  write_bytes(config, R"({"add_bos_token": "yes"})");
  expect_error([&] { tk::Gpt2Tokenizer::from_pretrained(dir.path()); }, {config.string(), "add_bos_token"});
  write_bytes(config, R"({"added_tokens_decoder": {"50257": {"content": "<pad>", "special": false}}})");
  const auto tokenizer = tk::Gpt2Tokenizer::from_pretrained(dir.path());
  EXPECT_EQ(tokenizer->vocab_size(), 50258u);
  EXPECT_EQ(tokenizer->encode("a<pad>b").input_ids, (std::vector<int32_t>{64, 50257, 65}));
  // transformers' slow decode writes an added non-special token apart.
  EXPECT_EQ(tokenizer->decode({64, 50257, 65}), "a <pad> b");
}

TEST(Gpt2TokenizerHostile, BadTextAndIds) {
  expect_error([] { gpt2().encode("ok \xC3("); }, {"invalid UTF-8 at byte 3"});
  expect_error([] { gpt2().decode({15496, 50257}); }, {"id 50257", "not in the vocabulary"});
  expect_error([] { gpt2().decode({-1}); }, {"id -1"});
  expect_error([] { gpt2().token_bytes(1 << 30); }, {"id 1073741824"});
}

TEST(Gpt2TokenizerSpeed, LoadsTheRealVocabularyQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const auto tokenizer = tk::Gpt2Tokenizer::from_pretrained(tformer::testing::shared_dir() / "vocab" / "gpt2");
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("vocab.json + merges.txt loaded in %.1f ms\n", ms);
  EXPECT_EQ(tokenizer->vocab_size(), 50257u);
  EXPECT_LT(ms, 1000);  // ~100 ms here; generous for a loaded machine or a sanitizer build
}

TEST(Gpt2TokenizerSpeed, OneMegabyteWordEncodesInSecondsNotMinutes) {
  for (const std::string& text : {std::string(1 << 20, 'a'), std::string(1 << 20, ' '), std::string(1 << 20, '!')}) {
    const auto start = std::chrono::steady_clock::now();
    const tk::Encoding e = gpt2().encode(text);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("1 MB of '%c': %zu tokens in %.3f s\n", text[0], e.size(), s);
    EXPECT_LT(s, 5.0);  // ~0.35 s alone; a quadratic merge would take minutes. Room for a loaded 2-core CI and ASan
    EXPECT_EQ(gpt2().decode(e.input_ids), text);
  }
}

TEST(Gpt2TokenizerThreads, TwoThreadsEncodeAtOnce) {
  const std::vector<std::string> texts = {"The quick brown fox jumps over the lazy dog. 東京 😀",
                                          "Once upon a time there was a tokenizer shared by threads."};
  std::vector<std::vector<int32_t>> expected;
  for (const std::string& text : texts) expected.push_back(gpt2().encode(text).input_ids);
  std::vector<int> mismatches(texts.size(), 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < texts.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 300; ++round) {
        // Fresh words too, so that both threads write the cache.
        const std::string text = texts[t] + " word" + std::to_string(round * 2 + t);
        const tk::Encoding e = gpt2().encode(text);
        if (!std::equal(expected[t].begin(), expected[t].end(), e.input_ids.begin()) ||
            gpt2().decode(e.input_ids) != text)
          ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(texts.size(), 0));
}
