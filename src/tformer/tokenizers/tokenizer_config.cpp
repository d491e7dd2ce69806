#include "tformer/tokenizers/tokenizer_config.h"

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"

namespace tformer::tokenizers {

using nlohmann::json;
using io::json_excerpt;
using io::read_json_file;

std::string token_content(const json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  TF_FAIL(where << ": expected a token string or an object with \"content\", got " << json_excerpt(value));
}

size_t parse_max_length(const json& value, const std::string& where) {
  // transformers stores "no limit" as int(1e30): an integer past uint64 that
  // JSON readers see as a float. Any length from 1e18 on means the same.
  if (value.is_number_float() && value.get<double>() >= 1e18) return kNoModelMaxLength;
  if (value.is_number_unsigned() && value.get<uint64_t>() >= uint64_t(1e18)) return kNoModelMaxLength;
  return static_cast<size_t>(io::json_to_int(value, 0, INT64_MAX, where));
}

namespace {

template <class T>
void read_field(const json& config, const char* key, T& field, const std::string& where) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  try {
    field = it->get<T>();
  } catch (const json::exception&) {
    TF_FAIL(where << ": field \"" << key << "\" has the wrong type: " << json_excerpt(*it));
  }
}

void read_token_field(const json& config, const char* key, std::string& field, const std::string& where) {
  auto it = config.find(key);
  if (it != config.end() && !it->is_null()) field = token_content(*it, where + ": \"" + key + "\"");
}

}  // namespace

std::vector<AddedToken> read_added_tokens_decoder(const json& decoder, const std::string& where) {
  std::vector<AddedToken> added_tokens;
  for (const auto& [id_text, token] : decoder.items()) {
    const std::string field_where = where + ": \"added_tokens_decoder\" \"" + id_text + "\"";
    AddedToken added{token_content(token, field_where), true, std::nullopt};
    // Its range is checked against the vocabulary by the tokenizer.
    const std::optional<int64_t> id = io::json_key_to_int(id_text, INT32_MAX);
    TF_CHECK(id, field_where << ": the key must be an integer id below 2^31");
    added.id = static_cast<int32_t>(*id);
    if (token.is_object()) read_field(token, "special", added.special, field_where);
    added_tokens.push_back(std::move(added));
  }
  return added_tokens;
}

void BertTokenizerConfig::update_from_json(const json& config, const std::string& where) {
  TF_CHECK(config.is_object(), where << ": expected a JSON object");
  read_field(config, "do_lower_case", do_lower_case, where);
  read_field(config, "tokenize_chinese_chars", tokenize_chinese_chars, where);
  read_field(config, "never_split", never_split, where);
  if (auto it = config.find("strip_accents"); it != config.end()) {
    if (it->is_null()) {
      strip_accents.reset();
    } else {
      TF_CHECK(it->is_boolean(), where << ": field \"strip_accents\" must be true, false or null");
      strip_accents = it->get<bool>();
    }
  }
  if (auto it = config.find("model_max_length"); it != config.end() && !it->is_null()) {
    model_max_length = parse_max_length(*it, where + ": \"model_max_length\"");
  }
  read_token_field(config, "unk_token", unk_token, where);
  read_token_field(config, "sep_token", sep_token, where);
  read_token_field(config, "pad_token", pad_token, where);
  read_token_field(config, "cls_token", cls_token, where);
  read_token_field(config, "mask_token", mask_token, where);
  if (auto it = config.find("additional_special_tokens"); it != config.end() && it->is_array()) {
    additional_special_tokens.clear();
    for (const auto& token : *it) {
      additional_special_tokens.push_back(token_content(token, where + ": \"additional_special_tokens\""));
    }
  }
  if (auto it = config.find("added_tokens_decoder"); it != config.end() && it->is_object()) {
    added_tokens = read_added_tokens_decoder(*it, where);
  }
}

BertTokenizerConfig BertTokenizerConfig::from_json_file(const std::filesystem::path& path) {
  BertTokenizerConfig config;
  config.update_from_json(read_json_file(path), path.string());
  return config;
}

BertTokenizerConfig BertTokenizerConfig::from_directory(const std::filesystem::path& dir) {
  BertTokenizerConfig config;
  // special_tokens_map.json last: transformers' from_pretrained lets its
  // tokens override tokenizer_config.json's.
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const auto path = dir / name;
    if (std::filesystem::exists(path)) config.update_from_json(read_json_file(path), path.string());
  }
  return config;
}

void read_bool_field(const nlohmann::json& config, const char* key, bool& field, const std::string& where) {
  auto it = config.find(key);
  if (it == config.end() || it->is_null()) return;
  TF_CHECK(it->is_boolean(), where << ": field \"" << key << "\" must be true or false, got " << io::json_excerpt(*it));
  field = it->get<bool>();
}

void read_token_field(const nlohmann::json& config, const char* key, std::optional<std::string>& field,
                      const std::string& where) {
  auto it = config.find(key);
  if (it == config.end()) return;
  if (it->is_null()) field.reset();
  else field = token_content(*it, where + ": \"" + key + "\"");
}

}  // namespace tformer::tokenizers
