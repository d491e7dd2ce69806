#include "tformer/tokenizers/tokenizer_json.h"

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"

namespace tformer::tokenizers {

using nlohmann::json;

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

void read_model(const json& model, TokenizerJson& out) {
  TF_CHECK(type_of(model) == "WordPiece", "\"model\": type " << type_of(model) << " is not WordPiece");
  const json& vocab = model.at("vocab");
  TF_CHECK(vocab.is_object(), "\"model.vocab\": expected an object of token → id");
  for (const auto& [token, id] : vocab.items()) out.vocab.set(token, id.get<int32_t>());
  TF_CHECK(out.vocab.size() > 0, "\"model.vocab\" is empty");
  out.wordpiece.unk_token = value_or<std::string>(model, "unk_token", "[UNK]");
  out.wordpiece.continuing_subword_prefix = value_or<std::string>(model, "continuing_subword_prefix", "##");
  out.wordpiece.max_input_chars_per_word = value_or<size_t>(model, "max_input_chars_per_word", 100);
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

TemplatePiece read_template_piece(const json& piece, const TokenizerJson& out) {
  using Kind = TemplatePiece::Kind;
  if (auto sequence = piece.find("Sequence"); sequence != piece.end()) {
    const std::string which = sequence->at("id").get<std::string>();
    TF_CHECK(which == "A" || which == "B", "\"post_processor\": unknown sequence id " << which);
    return {which == "A" ? Kind::FirstSequence : Kind::SecondSequence,
            sequence->at("type_id").get<int32_t>(), {}, -1};
  }
  const json& special = piece.at("SpecialToken");
  const std::string token = special.at("id").get<std::string>();
  const int32_t id = out.vocab.find(token);
  TF_CHECK(id >= 0, "\"post_processor\": special token " << token << " is not in the vocabulary");
  return {Kind::SpecialToken, special.at("type_id").get<int32_t>(), token, id};
}

std::optional<PostProcessor> read_post_processor(const json& processor, const TokenizerJson& out) {
  if (processor.is_null()) return std::nullopt;
  const std::string type = type_of(processor);
  if (type == "BertProcessing") {
    // {"sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}
    const json& cls = processor.at("cls");
    const json& sep = processor.at("sep");
    return PostProcessor::bert(cls.at(0).get<std::string>(), cls.at(1).get<int32_t>(),
                               sep.at(0).get<std::string>(), sep.at(1).get<int32_t>());
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
  const json root = read_json_file(path);
  TokenizerJson out;
  try {
    TF_CHECK(root.is_object() && root.contains("model"), "no \"model\" object");
    read_model(root.at("model"), out);
    read_normalizer(root.value("normalizer", json()), out.basic);
    const json pre_tokenizer = root.value("pre_tokenizer", json());
    TF_CHECK(type_of(pre_tokenizer) == "BertPreTokenizer",
             "\"pre_tokenizer\": type " << type_of(pre_tokenizer) << " is not supported (only BertPreTokenizer)");
    out.post_processor = read_post_processor(root.value("post_processor", json()), out);
    for (const auto& token : root.value("added_tokens", json::array())) {
      out.added_tokens.push_back(
          {token.at("content").get<std::string>(), value_or(token, "special", false), token.at("id").get<int32_t>()});
    }
    const json padding = root.value("padding", json());
    if (padding.is_object() && padding.contains("pad_token")) out.pad_token = padding["pad_token"].get<std::string>();
  } catch (const json::exception& e) {
    TF_FAIL(path.string() << ": unexpected structure: " << e.what());
  } catch (const Error& e) {
    TF_FAIL(path.string() << ": " << e.what());
  }
  return out;
}

}  // namespace tformer::tokenizers
