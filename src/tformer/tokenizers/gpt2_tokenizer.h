// GPT-2's byte-level BPE tokenizer, as transformers' (slow) GPT2Tokenizer
// runs it from vocab.json + merges.txt (+ tokenizer_config.json,
// special_tokens_map.json), or as the tokenizers library runs a tokenizer.json
// whose model is BPE with a ByteLevel pre-tokenizer (GPT-2, GPT-J, OPT, ...).
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tformer/tokenizers/added_tokens.h"
#include "tformer/tokenizers/byte_level_bpe.h"
#include "tformer/tokenizers/tokenizer.h"
#include "tformer/tokenizers/tokenizer_config.h"
#include "tformer/tokenizers/vocab.h"

namespace tformer::tokenizers {

// What tokenizer_config.json and special_tokens_map.json say about a GPT-2
// tokenizer; the defaults are GPT2Tokenizer's.
struct Gpt2TokenizerConfig {
  std::optional<std::string> bos_token = "<|endoftext|>";
  std::optional<std::string> eos_token = "<|endoftext|>";
  std::optional<std::string> unk_token = "<|endoftext|>";
  std::optional<std::string> pad_token;
  std::vector<std::string> additional_special_tokens;
  std::vector<AddedToken> added_tokens;  // added_tokens_decoder
  bool add_bos_token = false;
  bool add_prefix_space = false;
  // transformers 4.43 cleans up decoded text (" ." → "." ...) unless told not to.
  bool clean_up_tokenization_spaces = true;

  // Overrides the fields that `config` names; `where` prefixes error messages.
  void update_from_json(const nlohmann::json& config, const std::string& where);
  // The defaults, then tokenizer_config.json and special_tokens_map.json of
  // `dir` when present.
  static Gpt2TokenizerConfig from_directory(const std::filesystem::path& dir);
};

class Gpt2Tokenizer : public Tokenizer {
 public:
  // vocab.json + merges.txt with the directory's configuration; a directory
  // with a tokenizer.json and no vocab.json loads the tokenizer.json.
  static std::unique_ptr<Gpt2Tokenizer> from_pretrained(const std::filesystem::path& dir);
  static std::unique_ptr<Gpt2Tokenizer> from_files(const std::filesystem::path& vocab_json,
                                                   const std::filesystem::path& merges_txt,
                                                   const Gpt2TokenizerConfig& config = {});
  // A tokenizers tokenizer.json: model BPE, pre-tokenizer ByteLevel (alone or
  // the only member of a Sequence), no normalizer, decoder and post-processor
  // ByteLevel or none. `config` gives bos/eos and the decode clean-up.
  static std::unique_ptr<Gpt2Tokenizer> from_tokenizer_json(const std::filesystem::path& path,
                                                            const Gpt2TokenizerConfig& config = {});
  // Whether `dir` holds vocab.json + merges.txt, or a tokenizer.json whose
  // model is BPE with a ByteLevel pre-tokenizer: what from_pretrained loads.
  static bool recognizes(const std::filesystem::path& dir);

  Encoding encode(std::string_view text, bool add_special_tokens = true) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const override;
  std::string token_bytes(int32_t id) const override;
  // One past the highest id, added tokens included (GPT-2: 50257).
  size_t vocab_size() const override { return ids_.size(); }
  bool is_special_id(int32_t id) const override;
  std::optional<int32_t> bos_token_id() const override { return bos_id_; }
  std::optional<int32_t> eos_token_id() const override { return eos_id_; }
  std::string kind() const override { return "byte-level BPE"; }

  // The id of a token string ("Ġworld", "<|endoftext|>"), or nullopt.
  std::optional<int32_t> token_to_id(std::string_view token) const;
  size_t merges_size() const { return merges_.size(); }

 private:
  // Which library's behaviour the tokenizer follows where the two differ: the
  // prefix space, an added token's place in decoded text, ignore_merges.
  enum class Flavor { Transformers, Tokenizers };

  struct IdInfo {
    std::string token;  // as Encoding.tokens shows it; empty when the id has no token
    std::string bytes;  // token_bytes
    bool present = false;
    bool added = false;
    bool special = false;
    // transformers' slow decode writes an added token that is not one of the
    // special tokens apart, with a space on either side.
    bool decoded_apart = false;
  };

  Gpt2Tokenizer(Vocab vocab, byte_level::BpeMerges merges, const Gpt2TokenizerConfig& config, Flavor flavor,
                const std::string& origin);
  void add_token(const std::string& content, int32_t id, bool special, const std::string& origin);
  std::optional<int32_t> named_token_id(const std::optional<std::string>& token) const;
  // Appends the tokens of one piece of text without added tokens.
  void encode_plain(std::string_view text, Encoding& out) const;
  std::vector<int32_t> word_symbols(std::string_view word) const;

  Vocab vocab_;  // the BPE model's tokens
  byte_level::BpeMerges merges_;
  Gpt2TokenizerConfig config_;
  Flavor flavor_;
  bool ignore_merges_ = false;  // tokenizer.json: a word in the vocabulary is one token
  std::vector<IdInfo> ids_;
  std::unordered_map<std::string, int32_t> added_ids_;
  AddedTokenSplitter added_splitter_;
  std::array<int32_t, 256> byte_symbols_{};  // a byte's one-character token, or -1 - byte
  std::optional<int32_t> bos_id_, eos_id_, unk_id_;

  // word → symbols after merging, for short words: text repeats its words.
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace tformer::tokenizers
