#include "tformer/tokenizers/tokenizer_json.h"

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"

namespace tformer::tokenizers {

using nlohmann::json;

// Type ids index a model's token-type embeddings: a handful in every real
// model. The model checks them against its own table when it runs.
constexpr int64_t kMaxTypeId = 255;
// No WordPiece model looks at words of a million characters.
constexpr int64_t kMaxInputCharsPerWord = 1'000'000;

namespace {

std::string type_of(const json& component) {
  auto it = component.find("type");
  return it != component.end() && it->is_string() ? it->get<std::string>() : std::string("(none)");
}

template <class T>
T value_or(const json& object, const char* key, T fallback) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? fallback : it->get<T>();
}

// A token id of the file: below the vocabulary's size plus the added tokens,
// as in every real file (ids are 0, 1, ...), so that no id sizes the id table
// beyond what the file itself holds.
int32_t read_id(const json& id, size_t id_limit, const std::string& where) {
  return static_cast<int32_t>(io::json_to_int(id, 0, static_cast<int64_t>(id_limit) - 1, where));
}

void read_model(const json& model, size_t added_tokens, TokenizerJson& out) {
  TF_CHECK(type_of(model) == "WordPiece", "\"model\": type " << type_of(model) << " is not WordPiece");
  const json& vocab = model.at("vocab");
  TF_CHECK(vocab.is_object(), "\"model.vocab\": expected an object of token → id");
  const size_t id_limit = vocab.size() + added_tokens;
  for (const auto& [token, id] : vocab.items())
    out.vocab.set(token, read_id(id, id_limit, "\"model.vocab\": token \"" + token + "\""));
  TF_CHECK(out.vocab.size() > 0, "\"model.vocab\" is empty");
  out.wordpiece.unk_token = value_or<std::string>(model, "unk_token", "[UNK]");
  out.wordpiece.continuing_subword_prefix = value_or<std::string>(model, "continuing_subword_prefix", "##");
  out.wordpiece.max_input_chars_per_word = static_cast<size_t>(
      io::json_int_field(model, "max_input_chars_per_word", 0, kMaxInputCharsPerWord, "\"model\"").value_or(100));
}

void read_normalizer(const json& normalizer, BasicTokenizerOptions& basic) {
  basic.nfc_before_split = false;  // the Rust BertNormalizer has no NFC step
  if (normalizer.is_null()) {
    basic.lowercase = false;
    basic.strip_accents = false;
    basic.clean_text = false;
    basic.handle_chinese_chars = false;
    return;
  }
  TF_CHECK(type_of(normalizer) == "BertNormalizer",
           "\"normalizer\": type " << type_of(normalizer) << " is not supported (only BertNormalizer)");
  basic.clean_text = value_or(normalizer, "clean_text", true);
  basic.handle_chinese_chars = value_or(normalizer, "handle_chinese_chars", true);
  basic.lowercase = value_or(normalizer, "lowercase", true);
  auto strip = normalizer.find("strip_accents");
  if (strip == normalizer.end() || strip->is_null()) {
    basic.strip_accents.reset();
  } else {
    basic.strip_accents = strip->get<bool>();
  }
}

int32_t read_type_id(const json& piece) {
  return static_cast<int32_t>(io::json_to_int(piece.at("type_id"), 0, kMaxTypeId, "\"post_processor\": type_id"));
}

TemplatePiece read_template_piece(const json& piece, const TokenizerJson& out) {
  using Kind = TemplatePiece::Kind;
  if (auto sequence = piece.find("Sequence"); sequence != piece.end()) {
    const std::string which = sequence->at("id").get<std::string>();
    TF_CHECK(which == "A" || which == "B", "\"post_processor\": unknown sequence id " << which);
    return {which == "A" ? Kind::FirstSequence : Kind::SecondSequence, read_type_id(*sequence), {}, -1};
  }
  const json& special = piece.at("SpecialToken");
  const std::string token = special.at("id").get<std::string>();
  const int32_t id = out.vocab.find(token);
  TF_CHECK(id >= 0, "\"post_processor\": special token " << token << " is not in the vocabulary");
  return {Kind::SpecialToken, read_type_id(special), token, id};
}

std::optional<PostProcessor> read_post_processor(const json& processor, size_t id_limit, const TokenizerJson& out) {
  if (processor.is_null()) return std::nullopt;
  const std::string type = type_of(processor);
  if (type == "BertProcessing") {
    // {"sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}
    const json& cls = processor.at("cls");
    const json& sep = processor.at("sep");
    return PostProcessor::bert(cls.at(0).get<std::string>(), read_id(cls.at(1), id_limit, "\"post_processor.cls\""),
                               sep.at(0).get<std::string>(), read_id(sep.at(1), id_limit, "\"post_processor.sep\""));
  }
  TF_CHECK(type == "TemplateProcessing",
           "\"post_processor\": type " << type << " is not supported (TemplateProcessing, BertProcessing)");
  PostProcessor result;
  for (const auto& piece : processor.at("single")) result.single.push_back(read_template_piece(piece, out));
  for (const auto& piece : processor.at("pair")) result.pair.push_back(read_template_piece(piece, out));
  return result;
}

}  // namespace

TokenizerJson TokenizerJson::read(const std::filesystem::path& path) {
  const json root = io::read_json_file(path);
  TokenizerJson out;
  static const json kNull;
  auto member = [&](const char* key) -> const json& {
    auto it = root.find(key);
    return it == root.end() ? kNull : *it;
  };
  try {
    TF_CHECK(root.is_object() && root.contains("model"), "no \"model\" object");
    const json& added_tokens = member("added_tokens");
    TF_CHECK(added_tokens.is_null() || added_tokens.is_array(), "\"added_tokens\": expected a list");
    read_model(root.at("model"), added_tokens.size(), out);
    const size_t id_limit = out.vocab.size() + added_tokens.size();
    read_normalizer(member("normalizer"), out.basic);
    const json& pre_tokenizer = member("pre_tokenizer");
    TF_CHECK(type_of(pre_tokenizer) == "BertPreTokenizer",
             "\"pre_tokenizer\": type " << type_of(pre_tokenizer) << " is not supported (only BertPreTokenizer)");
    out.post_processor = read_post_processor(member("post_processor"), id_limit, out);
    for (const auto& token : added_tokens) {
      out.added_tokens.push_back({token.at("content").get<std::string>(), value_or(token, "special", false),
                                  read_id(token.at("id"), id_limit, "\"added_tokens\": id")});
    }
    const json& padding = member("padding");
    if (padding.is_object() && padding.contains("pad_token")) out.pad_token = padding["pad_token"].get<std::string>();
  } catch (const json::exception& e) {
    TF_FAIL(path.string() << ": unexpected structure: " << e.what());
  } catch (const Error& e) {
    TF_FAIL(path.string() << ": " << e.what());
  }
  return out;
}

}  // namespace tformer::tokenizers
