// The settings of a BertTokenizer as tokenizer_config.json (and
// special_tokens_map.json) store them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tformer::tokenizers {

// model_max_length when a model declares none (transformers uses 1e30: no
// limit); truncation or padding to it is then skipped, as transformers does.
inline constexpr size_t kNoModelMaxLength = std::numeric_limits<size_t>::max();

// A token matched in the raw text before any normalization and kept whole.
struct AddedToken {
  std::string content;
  bool special = true;             // dropped by decode(skip_special_tokens=true)
  std::optional<int32_t> id;       // nullopt: the vocabulary's id for content
};

struct BertTokenizerConfig {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;  // nullopt: follows do_lower_case
  bool tokenize_chinese_chars = true;
  std::vector<std::string> never_split;
  size_t model_max_length = 512;
  std::string unk_token = "[UNK]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string cls_token = "[CLS]";
  std::string mask_token = "[MASK]";
  std::vector<std::string> additional_special_tokens;
  std::vector<AddedToken> added_tokens;  // tokenizer_config's added_tokens_decoder

  // Overrides the fields that `config` names; `where` prefixes error messages.
  void update_from_json(const nlohmann::json& config, const std::string& where);
  // Defaults, then tokenizer_config.json (and special_tokens_map.json beside
  // it) when present in `dir`.
  static BertTokenizerConfig from_directory(const std::filesystem::path& dir);
  static BertTokenizerConfig from_json_file(const std::filesystem::path& path);
};

// A token written as "[X]" or as {"content": "[X]", ...} (AddedToken).
std::string token_content(const nlohmann::json& value, const std::string& where);
// config[key] into `field` when present and not null; a non-boolean is an
// Error naming `where` and the field.
void read_bool_field(const nlohmann::json& config, const char* key, bool& field, const std::string& where);
// A token field (a string or {"content": ...}) into `field`: absent leaves
// it, null removes the token (GPT-2's "pad_token": null).
void read_token_field(const nlohmann::json& config, const char* key, std::optional<std::string>& field,
                      const std::string& where);
// tokenizer_config.json's "added_tokens_decoder": {"30522": {"content": "<x>",
// "special": false, ...}, ...}, every id set.
std::vector<AddedToken> read_added_tokens_decoder(const nlohmann::json& decoder, const std::string& where);
// model_max_length as stored (an integer or a huge float meaning no limit).
size_t parse_max_length(const nlohmann::json& value, const std::string& where);

}  // namespace tformer::tokenizers
