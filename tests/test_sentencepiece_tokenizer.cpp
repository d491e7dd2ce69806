// SentencePieceTokenizer against transformers' slow LlamaTokenizer
// (../shared/fixtures/llama-tiny, stories260K-hf) and llama2.c's run.c
// (stories260K-llama2c), the same tokenizer read from tok512.bin, streaming
// through StreamDecoder, and hostile model files.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_io_support.h"
#include "test_util.h"
#include "tformer/core/error.h"
#include "tformer/tokenizers/llama2c_tokenizer_file.h"
#include "tformer/tokenizers/sentencepiece_model.h"
#include "tformer/tokenizers/sentencepiece_tokenizer.h"

namespace tk = tformer::tokenizers;
namespace fs = std::filesystem;
using nlohmann::json;
using tformer::io::testing::expect_error;
using tformer::io::testing::read_bytes;
using tformer::io::testing::TempDir;
using tformer::io::testing::write_bytes;
using tformer::testing::fixtures_dir;
using tformer::testing::shared_dir;

namespace {

std::vector<json> read_jsonl(const fs::path& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::vector<json> rows;
  for (std::string line; std::getline(file, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

std::vector<int32_t> ids_of(const json& array) { return array.get<std::vector<int32_t>>(); }

fs::path tok512_model() { return shared_dir() / "models/stories260K/tok512.model"; }
fs::path tok512_bin() { return shared_dir() / "models/stories260K/tok512.bin"; }

const tk::SentencePieceTokenizer& llama_tiny() {
  static const auto tokenizer = tk::SentencePieceTokenizer::from_pretrained(fixtures_dir() / "llama-tiny");
  return *tokenizer;
}

const tk::SentencePieceTokenizer& stories_hf() {
  static const auto tokenizer = tk::SentencePieceTokenizer::from_pretrained(fixtures_dir() / "stories260K-hf");
  return *tokenizer;
}

const tk::SentencePieceTokenizer& llama2c() {
  static const auto tokenizer = tk::SentencePieceTokenizer::from_llama2c_file(tok512_bin());
  return *tokenizer;
}

// What transformers' skip-special decode gives, rebuilt from token_bytes
// through StreamDecoder: the first piece's dummy-prefix space dropped.
std::string streamed(const tk::Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  tk::StreamDecoder stream;
  std::string out;
  for (int32_t id : ids)
    if (!tokenizer.is_special_id(id)) out += stream.push(tokenizer.token_bytes(id));
  out += stream.finish();
  if (!out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

// A protobuf writer for hand-made model files.
std::string varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(0x80 | (v & 0x7F)));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string field_varint(uint32_t field, uint64_t v) { return varint(field << 3) + varint(v); }
std::string field_bytes(uint32_t field, const std::string& bytes) {
  return varint((field << 3) | 2) + varint(bytes.size()) + bytes;
}
std::string field_float(uint32_t field, float f) {
  std::string out = varint((field << 3) | 5);
  out.append(reinterpret_cast<const char*>(&f), 4);
  return out;
}
std::string piece(const std::string& text, float score, int type = 1) {
  return field_bytes(1, field_bytes(1, text) + field_float(2, score) + field_varint(3, type));
}
const std::string kSpace = "\xE2\x96\x81";

// <unk> <s> </s> ▁ a b c ▁a ab ▁ab, BPE, no byte fallback; `extra` appended.
std::string small_model(const std::string& trainer_extra = "", const std::string& extra = "") {
  std::string model = piece("<unk>", 0, 2) + piece("<s>", 0, 3) + piece("</s>", 0, 3);
  const std::vector<std::string> normal = {kSpace, "a", "b", "c", kSpace + "a", "ab", kSpace + "ab"};
  for (size_t i = 0; i < normal.size(); ++i) model += piece(normal[i], -float(i));
  return model + field_bytes(2, field_varint(3, 2) + trainer_extra) + field_bytes(3, field_bytes(1, "identity")) +
         extra;
}

tk::SentencePieceTokenizer from_bytes(const std::string& bytes) {
  return tk::SentencePieceTokenizer(
      tk::parse_sentencepiece_model({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "test.model"),
      {}, "test.model");
}

}  // namespace

TEST(SentencePieceFixtures, LlamaTinyTokenizerJsonl) {
  const auto& tokenizer = llama_tiny();
  EXPECT_EQ(tokenizer.kind(), "SentencePiece BPE");
  EXPECT_EQ(tokenizer.vocab_size(), 512u);
  EXPECT_EQ(tokenizer.bos_token_id(), 1);
  EXPECT_EQ(tokenizer.eos_token_id(), 2);
  for (const json& row : read_jsonl(fixtures_dir() / "llama-tiny/tokenizer.jsonl")) {
    const std::string text = row["text"];
    const tk::Encoding got = tokenizer.encode(text);
    EXPECT_EQ(got.input_ids, ids_of(row["input_ids"])) << text;
    ASSERT_FALSE(got.tokens.empty());
    EXPECT_EQ(got.tokens[0], "<s>");
    EXPECT_EQ(std::vector<std::string>(got.tokens.begin() + 1, got.tokens.end()),
              row["tokens"].get<std::vector<std::string>>())
        << text;
    EXPECT_EQ(got.attention_mask, std::vector<int32_t>(got.size(), 1));
    EXPECT_EQ(got.token_type_ids, std::vector<int32_t>(got.size(), 0));
    EXPECT_EQ(tokenizer.decode(got.input_ids), row["decode"].get<std::string>()) << text;
    EXPECT_EQ(tokenizer.decode(got.input_ids, true), row["decode_skip_special"].get<std::string>()) << text;
    EXPECT_EQ(llama2c().encode(text).input_ids, got.input_ids) << "tok512.bin: " << text;
    EXPECT_EQ(streamed(tokenizer, got.input_ids), row["decode_skip_special"].get<std::string>()) << text;
  }
}

TEST(SentencePieceFixtures, LlamaTinyGreedyTexts) {
  for (const json& row : read_jsonl(fixtures_dir() / "llama-tiny/generate.jsonl")) {
    const std::string prompt = row["prompt"];
    EXPECT_EQ(llama_tiny().encode(prompt).input_ids, ids_of(row["input_ids"])) << prompt;
    EXPECT_EQ(llama2c().encode(prompt).input_ids, ids_of(row["input_ids"])) << prompt;
    // The random model emits stray byte pieces: each invalid byte is one U+FFFD.
    EXPECT_EQ(llama_tiny().decode(ids_of(row["greedy_ids"]), true), row["greedy_text"].get<std::string>()) << prompt;
    EXPECT_EQ(streamed(llama_tiny(), ids_of(row["greedy_ids"])), row["greedy_text"].get<std::string>()) << prompt;
  }
}

TEST(SentencePieceFixtures, Stories260KPromptsAndGreedyTexts) {
  const json expected = tformer::testing::load_json(fixtures_dir() / "stories260K-hf/expected.json");
  ASSERT_EQ(expected["prompts"].size(), 3u);
  for (const json& row : expected["prompts"]) {
    const std::string prompt = row["prompt"];
    EXPECT_EQ(stories_hf().encode(prompt).input_ids, ids_of(row["input_ids"])) << prompt;
    EXPECT_EQ(llama2c().encode(prompt).input_ids, ids_of(row["input_ids"])) << prompt;
    EXPECT_EQ(stories_hf().decode(ids_of(row["greedy_ids"]), true), row["greedy_text"].get<std::string>());
    EXPECT_EQ(llama2c().decode(ids_of(row["greedy_ids"]), true), row["greedy_text"].get<std::string>());
    // run.c stops at the first BOS after position 0.
    std::vector<int32_t> steps = ids_of(row["steps_ids"]);
    const auto bos = std::find(steps.begin() + 1, steps.end(), 1);
    steps.erase(bos, steps.end());
    EXPECT_EQ(stories_hf().decode(steps, true), row["steps_text_until_bos"].get<std::string>());
  }
}

TEST(SentencePieceFixtures, Llama2cPromptFilesAsRunC) {
  const json expected = tformer::testing::load_json(fixtures_dir() / "stories260K-hf/expected.json");
  for (const json& row : expected["prompts"]) {
    const fs::path prompt_file = fixtures_dir() / "stories260K-llama2c" / row["prompt_file"].get<std::string>();
    const std::string prompt = read_bytes(prompt_file);
    EXPECT_EQ(llama2c().encode(prompt).input_ids, ids_of(row["input_ids"])) << prompt;
  }
}

TEST(SentencePieceFixtures, ModelFileAndLlama2cFileAgree) {
  const auto model = tk::SentencePieceTokenizer::from_model_file(tok512_model());
  ASSERT_EQ(model->vocab_size(), llama2c().vocab_size());
  for (int32_t id = 0; id < static_cast<int32_t>(model->vocab_size()); ++id) {
    EXPECT_EQ(model->piece(id), llama2c().piece(id)) << id;
    EXPECT_EQ(model->token_bytes(id), llama2c().token_bytes(id)) << id;
  }
  EXPECT_EQ(model->token_bytes(13), "\n");
  EXPECT_EQ(model->token_bytes(403), " Once");
  EXPECT_EQ(model->token_bytes(1), "<s>");
  // A directory with only a llama2.c file is recognized and loaded.
  TempDir dir;
  write_bytes(dir / "tok512.bin", read_bytes(tok512_bin()));
  EXPECT_TRUE(tk::SentencePieceTokenizer::recognizes(dir.path()));
  EXPECT_EQ(tk::SentencePieceTokenizer::from_pretrained(dir.path())->encode("Once upon a time").input_ids,
            (std::vector<int32_t>{1, 403, 407, 261, 378}));
  EXPECT_FALSE(tk::SentencePieceTokenizer::recognizes(fixtures_dir() / "gpt2-tiny"));
}

TEST(SentencePieceTokenizer, EdgeCases) {
  const auto& tokenizer = llama_tiny();
  EXPECT_EQ(tokenizer.encode("").input_ids, std::vector<int32_t>{1});
  EXPECT_EQ(tokenizer.encode("   ").input_ids, std::vector<int32_t>{1});
  EXPECT_TRUE(tokenizer.encode("", false).input_ids.empty());
  EXPECT_EQ(tokenizer.encode("<s></s>", false).input_ids, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(tokenizer.decode({}), "");
  expect_error([&] { tokenizer.encode("ab\xC3(cd"); }, {"invalid UTF-8 at byte 2"});
  expect_error([&] { tokenizer.decode({1, 512}); }, {"token id 512", "512 tokens"});
  expect_error([&] { tokenizer.token_bytes(-1); }, {"token id -1"});
  expect_error([&] { tokenizer.piece(512); }, {"token id 512"});
}

TEST(SentencePieceTokenizer, NonLegacyMode) {
  // transformers 4.43's LlamaTokenizer(legacy=False) on tok512.model: chunks
  // after special tokens get no dummy prefix, a leading space survives through
  // the "<unk>" trick, and decode puts no space before a special token.
  TempDir dir;
  write_bytes(dir / "tokenizer.model", read_bytes(tok512_model()));
  write_bytes(dir / "tokenizer_config.json", R"({"legacy": false, "add_bos_token": true})");
  const auto tokenizer = tk::SentencePieceTokenizer::from_pretrained(dir.path());
  using Ids = std::vector<int32_t>;
  EXPECT_EQ(tokenizer->encode("Once upon a time").input_ids, (Ids{1, 403, 407, 261, 378}));
  EXPECT_EQ(tokenizer->encode("").input_ids, Ids{1});
  // "world" after </s>: w or ld, where legacy mode gives ▁w or ld.
  EXPECT_EQ(tokenizer->encode("Hello</s>world").input_ids, (Ids{1, 346, 306, 414, 2, 424, 304, 341}));
  EXPECT_EQ(llama_tiny().encode("Hello</s>world").input_ids, (Ids{1, 346, 306, 414, 2, 263, 304, 341}));
  EXPECT_EQ(tokenizer->encode("Hello </s> world").input_ids, (Ids{1, 346, 306, 414, 2, 263, 304, 341}));
  // The prefix ▁ before a leading special token is dropped; "Hello" then has none: H e ll o.
  EXPECT_EQ(tokenizer->encode("<s>Hello").input_ids, (Ids{1, 1, 440, 411, 306, 414}));
  EXPECT_EQ(tokenizer->decode({1, 291, 344, 264, 426, 2}), "<s>The end.</s>");
  EXPECT_EQ(llama_tiny().decode({1, 291, 344, 264, 426, 2}), "<s> The end.</s>");
}

TEST(SentencePieceTokenizer, MegabyteEncodesWellUnderASecond) {
  std::string text;
  const std::string story = "Once upon a time, there was a little girl named Lily. She loved to play outside "
                            "in the park with her friend Tom. \xC3\xA9\xE6\x9D\xB1 12345\n";
  while (text.size() < (1u << 20)) text += story;
  const auto start = std::chrono::steady_clock::now();
  const tk::Encoding got = llama_tiny().encode(text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("1 MiB encoded into %zu tokens in %.3f s\n", got.size(), seconds);
  EXPECT_LT(seconds, 1.0);
  EXPECT_EQ(llama_tiny().decode(got.input_ids, true), text);

  // One word of 1 MiB, the worst case: no space to split at, every merge in
  // one queue (about 0.5 s on an idle core; the bound leaves room for a busy machine).
  std::string word;
  while (word.size() < (1u << 20)) word += "LilyandTomwenttothepark.";
  const auto word_start = std::chrono::steady_clock::now();
  const tk::Encoding word_ids = llama_tiny().encode(word);
  const double word_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - word_start).count();
  std::printf("a 1 MiB word encoded into %zu tokens in %.3f s\n", word_ids.size(), word_seconds);
  EXPECT_LT(word_seconds, 3.0);
  EXPECT_EQ(llama_tiny().decode(word_ids.input_ids, true), word);
}

TEST(SentencePieceTokenizer, SmallModelWithoutByteFallback) {
  const auto tokenizer = from_bytes(small_model());
  const tk::Encoding got = tokenizer.encode("ab ca");
  EXPECT_EQ(got.tokens, (std::vector<std::string>{"<s>", kSpace + "ab", kSpace, "c", "a"}));
  EXPECT_EQ(got.input_ids, (std::vector<int32_t>{1, 9, 3, 6, 4}));
  EXPECT_EQ(tokenizer.encode("x", false).input_ids, (std::vector<int32_t>{3, 0}));  // x is <unk>
  EXPECT_EQ(tokenizer.decode({9, 3, 6, 4}), "ab ca");
}

TEST(SentencePieceTokenizer, UnusedPiecesSplitBackAndUserDefinedPiecesStayWhole) {
  // ids 10 "ba" (unused) and 11 "<user>" (user-defined) after the small model's.
  const auto tokenizer = from_bytes(small_model("", piece("ba", -10, 5) + piece("<user>", -11, 4)));
  const std::vector<int32_t> ids = tokenizer.encode("bab ba <user>x", false).input_ids;
  EXPECT_EQ(ids, (std::vector<int32_t>{3, 5, 8, 3, 5, 4, 3, 11, 0}));
  // <unk> is a special token: legacy LlamaTokenizer puts a space before it.
  EXPECT_EQ(tokenizer.decode(ids), " bab ba <user><unk>");
  EXPECT_EQ(tokenizer.decode(ids, true), "bab ba <user>");
}

TEST(SentencePieceModelFile, RefusesWhatItDoesNotImplement) {
  expect_error([] { from_bytes(small_model(field_varint(3, 1))); }, {"test.model", "only BPE", "UNIGRAM"});
  expect_error([] { from_bytes(small_model(field_varint(35, 1))); }, {"test.model", "byte_fallback", "<0x00>"});
  expect_error([] { from_bytes(small_model("", field_bytes(3, field_bytes(2, "xx")))); },
               {"test.model", "precompiled_charsmap"});
  expect_error([] { from_bytes(small_model("", piece("a", 0))); }, {"pieces[10]", "'a'", "pieces[4]"});
  expect_error([] { from_bytes(small_model("", piece("<unk2>", 0, 2))); }, {"second <unk>"});
  expect_error([] { from_bytes(small_model("", piece("", 0))); }, {"pieces[10]", "empty"});
  expect_error([] { from_bytes(small_model("", piece("q", 0, 9))); }, {"pieces[10]", "type 9"});
  expect_error([] { from_bytes(small_model("", piece("\xE2\x96", 0))); }, {"pieces[10]", "not valid UTF-8"});
}

TEST(SentencePieceModelFile, HostileBytes) {
  const std::string model = small_model();
  // A length past the end, a varint of 11 bytes, a group that never ends, wire type 7.
  expect_error([&] { from_bytes(model + varint(0x0A) + varint(0xFFFFFFFFu)); }, {"test.model", "runs past the end"});
  expect_error([&] { from_bytes(model + varint(100 << 3) + std::string(10, '\xFF') + "\x01"); }, {"varint"});
  expect_error([&] { from_bytes(model + varint((7 << 3) | 3)); }, {"group 7 has no end"});
  expect_error([&] { from_bytes(model + varint((7 << 3) | 7)); }, {"wire type 7"});
  expect_error([&] { from_bytes(model + varint(0)); }, {"field number 0"});
  std::string nested;
  for (int i = 0; i < 100; ++i) nested += varint((7 << 3) | 3);
  expect_error([&] { from_bytes(model + nested); }, {"nested"});
  // Unknown fields of every wire type are skipped.
  const std::string unknown = field_varint(100, 5) + varint((101 << 3) | 1) + std::string(8, 'x') +
                              field_bytes(102, "zz") + varint((103 << 3) | 3) + field_varint(1, 1) +
                              varint((103 << 3) | 4) + varint((104 << 3) | 5) + "abcd";
  EXPECT_EQ(from_bytes(model + unknown).encode("ab").input_ids, (std::vector<int32_t>{1, 9}));
}

TEST(SentencePieceModelFile, EveryTruncationOfTheRealModel) {
  const std::string bytes = read_bytes(tok512_model());
  ASSERT_EQ(bytes.size(), 7522u);
  size_t valid = 0;
  for (size_t n = 0; n <= bytes.size(); ++n) {
    try {
      const auto tokenizer = from_bytes(bytes.substr(0, n));
      tokenizer.decode(tokenizer.encode("Once upon a time, 東京").input_ids);
      ++valid;
    } catch (const tformer::Error& e) {
      EXPECT_NE(std::string(e.what()).find("test.model"), std::string::npos) << e.what();
    }
  }
  EXPECT_GE(valid, 1u);  // the whole file
}

TEST(SentencePieceLlama2cFile, EveryTruncationAndLyingNumbers) {
  const std::string bytes = read_bytes(tok512_bin());
  const auto parse = [](const std::string& b) {
    const auto model = tk::parse_llama2c_tokenizer({reinterpret_cast<const uint8_t*>(b.data()), b.size()}, "tok.bin");
    return tk::SentencePieceTokenizer(model, {}, "tok.bin");
  };
  size_t valid = 0;
  for (size_t n = 0; n <= bytes.size(); ++n) {
    try {
      const auto tokenizer = parse(bytes.substr(0, n));
      tokenizer.decode(tokenizer.encode("Once upon a time, 東京").input_ids);
      ++valid;
    } catch (const tformer::Error& e) {
      EXPECT_NE(std::string(e.what()).find("tok.bin"), std::string::npos) << e.what();
    }
  }
  EXPECT_GE(valid, 1u);
  const auto with_int = [](std::string b, size_t offset, int32_t value) {
    std::memcpy(b.data() + offset, &value, 4);
    return b;
  };
  expect_error([&] { parse(with_int(bytes, 0, -5)); }, {"tok.bin", "max_token_length -5"});
  expect_error([&] { parse(with_int(bytes, 8, 0x7FFFFFFF)); }, {"tok.bin", "token 0", "length 2147483647"});
  expect_error([&] { parse(with_int(bytes, 8, -1)); }, {"tok.bin", "token 0", "length -1"});
  expect_error([&] { parse(with_int(with_int(bytes, 0, 0x7FFFFFFF), 8, 100000)); },
               {"tok.bin", "token 0", "length 100000 runs past the end"});
  expect_error([&] { parse(bytes.substr(0, 36)); }, {"tok.bin", "token 2 length", "the file ends inside it"});
  std::string no_byte = bytes;
  // Token 3's text starts after the header (4 bytes), tokens 0-2 (score, length and
  // "<unk>", "\n<s>\n", "\n</s>\n") and its own score and length: <0x00> → <0xZ0>.
  no_byte[4 + (8 + 5) + (8 + 5) + (8 + 6) + 8 + 3] = 'Z';
  expect_error([&] { parse(no_byte); }, {"tok.bin", "token 3", "<0x00>"});
}
