// Llama's tokenizer: SentencePiece BPE as transformers' slow LlamaTokenizer
// runs it. Special tokens written in the text (<s>, </s>, <unk>) are split
// out first; each other chunk is normalized on its own (spaces → ▁, runs of
// spaces collapsed, a ▁ dummy prefix) and merged pair by pair, the
// best-scoring pair first; characters outside the vocabulary become byte
// pieces <0xNN> (byte fallback) or <unk>. BOS is prepended (and EOS appended)
// as tokenizer_config.json's add_bos_token / add_eos_token say. That is
// legacy mode (the fixtures'); "legacy": false is followed as transformers
// 4.43 does (no dummy prefix after special tokens). Loads a tokenizer.model
// (with the Hugging Face configs beside it) or llama2.c's tokenizer.bin.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tformer/tokenizers/added_tokens.h"
#include "tformer/tokenizers/sentencepiece_model.h"
#include "tformer/tokenizers/tokenizer.h"
#include "tformer/tokenizers/tokenizer_config.h"

namespace tformer::tokenizers {

// What tokenizer_config.json and special_tokens_map.json say, with
// LlamaTokenizer's defaults. A token set to null is absent.
struct LlamaTokenizerConfig {
  std::optional<std::string> bos_token = "<s>", eos_token = "</s>", unk_token = "<unk>", pad_token;
  std::vector<std::string> additional_special_tokens;
  std::vector<AddedToken> added_tokens;  // added_tokens_decoder: each must be a special piece of the model
  bool add_bos_token = true;
  bool add_eos_token = false;
  bool add_prefix_space = true;
  // transformers' legacy flag (null or absent: true). false: no dummy prefix
  // after special tokens, no space before them when decoding.
  bool legacy = true;
  bool clean_up_tokenization_spaces = false;

  // Defaults, then tokenizer_config.json and special_tokens_map.json from
  // `dir` when present. Settings tformer does not implement (non-special
  // added tokens, lstrip/rstrip) are a tformer::Error.
  static LlamaTokenizerConfig from_directory(const std::filesystem::path& dir);
};

class SentencePieceTokenizer : public Tokenizer {
 public:
  // Checks the piece table: unique pieces, exactly one <unk>, all 256 byte
  // pieces when byte_fallback is on, every special token a piece.
  // `origin` names the model file in errors.
  SentencePieceTokenizer(SentencePieceModel model, LlamaTokenizerConfig config, std::string origin);
  SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;  // lookups point into pieces_
  SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

  // A tokenizer.model alone, with LlamaTokenizer's defaults.
  static std::unique_ptr<SentencePieceTokenizer> from_model_file(const std::filesystem::path& path);
  // llama2.c's tokenizer.bin, with LlamaTokenizer's defaults.
  static std::unique_ptr<SentencePieceTokenizer> from_llama2c_file(const std::filesystem::path& path);
  // dir/tokenizer.model with dir's tokenizer_config.json and
  // special_tokens_map.json; without tokenizer.model, the one tok*.bin
  // (llama2.c) in dir.
  static std::unique_ptr<SentencePieceTokenizer> from_pretrained(const std::filesystem::path& dir);
  // Whether from_pretrained finds a tokenizer in dir.
  static bool recognizes(const std::filesystem::path& dir);

  Encoding encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const override;
  // ▁ → space, <0xNN> → that byte, control and unknown tokens → their text.
  // The first token of a text keeps its dummy-prefix space: decode drops it.
  std::string token_bytes(int32_t id) const override;

  size_t vocab_size() const override { return pieces_.size(); }
  bool is_special_id(int32_t id) const override { return special_ids_.count(id) != 0; }
  std::optional<int32_t> bos_token_id() const override { return bos_id_; }
  std::optional<int32_t> eos_token_id() const override { return eos_id_; }
  std::string kind() const override { return "SentencePiece BPE"; }

  // The piece text of `id` ("▁Once", "<0x0A>", "<s>"); an id outside the vocabulary is an Error.
  const std::string& piece(int32_t id) const;

 private:
  using UnusedSplits = std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>>;
  // SentencePiece's normalizer (identity rules): ▁ for spaces, extra spaces
  // removed, the dummy prefix.
  std::string normalize(std::string_view text) const;
  void append_id(int32_t id, Encoding& out) const;
  // The text split at special tokens, each other chunk SentencePiece-encoded.
  void append_segments(std::string_view text, Encoding& out) const;
  // Non-legacy: `chunk` encoded after the <unk> text, the <unk>'s pieces dropped.
  void append_after_unk(std::string_view chunk, Encoding& out) const;
  // sp_model.encode(text) for one chunk of text without special tokens.
  void append_sentencepiece(std::string_view text, Encoding& out) const;
  // The BPE merge loop over normalized text.
  void append_bpe(std::string_view normalized, Encoding& out) const;
  // The ids of one symbol left after merging: its piece, the pieces an
  // unused piece was merged from, or byte pieces / <unk> when not a piece.
  void append_symbol(std::string_view text, const UnusedSplits& unused_splits, Encoding& out) const;
  std::optional<int32_t> find_piece(std::string_view text) const;
  size_t user_defined_match(std::string_view text, size_t pos) const;
  // sp_model.decode of the pieces ids[begin, end); `first_override` replaces
  // the first piece's text (LlamaTokenizer strips its ▁ before decoding).
  std::string sentencepiece_decode(const std::vector<int32_t>& ids, size_t begin, size_t end,
                                   const std::optional<std::string>& first_override) const;
  void check_id(int32_t id) const;

  std::string origin_;
  std::vector<SentencePiece> pieces_;
  SentencePieceModel settings_;  // the trainer and normalizer settings (its pieces moved to pieces_)
  LlamaTokenizerConfig config_;
  std::unordered_map<std::string_view, int32_t> piece_ids_;  // views of pieces_[i].text
  std::vector<std::string_view> user_defined_;  // kept whole, longest first
  bool merges_stop_at_space_ = false;             // see the constructor
  std::array<int32_t, 256> byte_ids_{};
  int32_t unk_id_ = 0;
  std::optional<int32_t> bos_id_, eos_id_;
  std::string unk_text_;   // non-legacy only: the text before each chunk that starts with a space
  size_t unk_length_ = 0;  // and how many pieces it encodes to
  std::unordered_set<int32_t> special_ids_;
  AddedTokenSplitter special_splitter_;
};

}  // namespace tformer::tokenizers
