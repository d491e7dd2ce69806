#include "tformer/tokenizers/bert_tokenizer.h"

#include <algorithm>

#include "tformer/core/error.h"
#include "tformer/tokenizers/tokenizer_json.h"
#include "tformer/tokenizers/text_cleanup.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer::tokenizers {

namespace fs = std::filesystem;

void BertTokenizer::add_token(const std::string& token, std::optional<int32_t> id, bool special,
                              const std::string& where) {
  int32_t token_id = vocab_->find(token);
  if (id && *id != token_id) {
    vocab_->set(token, *id);
    token_id = *id;
  } else if (token_id < 0) {
    // As transformers' add_tokens: a token missing from the vocabulary gets
    // the next free id.
    token_id = static_cast<int32_t>(vocab_->id_limit());
    vocab_->set(token, token_id);
  }
  added_tokens_.add(token);
  if (special) {
    special_ids_.insert(token_id);
  } else {
    non_special_added_tokens_.insert(token);
  }
}

BertTokenizer BertTokenizer::from_vocab_file(const fs::path& vocab_txt, const BertTokenizerConfig& cfg) {
  BertTokenizer tokenizer;
  tokenizer.vocab_ = std::make_shared<Vocab>(Vocab::from_vocab_txt(vocab_txt));
  const std::string where = vocab_txt.string();

  // The four tokens every BERT encoding relies on must be real vocabulary entries.
  auto required_id = [&](const std::string& token, const char* role) {
    const int32_t id = tokenizer.vocab_->find(token);
    TF_CHECK(id >= 0, where << ": the " << role << " '" << token << "' is not in the vocabulary");
    return id;
  };
  tokenizer.unk_token_ = cfg.unk_token;
  tokenizer.unk_id_ = required_id(cfg.unk_token, "unknown token (unk_token)");
  const int32_t cls_id = required_id(cfg.cls_token, "classifier token (cls_token)");
  const int32_t sep_id = required_id(cfg.sep_token, "separator token (sep_token)");
  tokenizer.pad_token_ = cfg.pad_token;
  tokenizer.pad_id_ = required_id(cfg.pad_token, "padding token (pad_token)");
  tokenizer.post_processor_ = PostProcessor::bert(cfg.cls_token, cls_id, cfg.sep_token, sep_id);

  for (const auto& token : {cfg.unk_token, cfg.sep_token, cfg.pad_token, cfg.cls_token}) {
    tokenizer.add_token(token, std::nullopt, true, where);
  }
  // [MASK] is optional: a vocabulary without it simply has no mask token.
  if (tokenizer.vocab_->contains(cfg.mask_token)) tokenizer.add_token(cfg.mask_token, std::nullopt, true, where);
  for (const auto& token : cfg.additional_special_tokens) tokenizer.add_token(token, std::nullopt, true, where);
  // Added tokens take the ids after the vocabulary's; an id past those (which
  // would size the id table from one number in tokenizer_config.json) is refused.
  const size_t id_limit = tokenizer.vocab_->id_limit() + cfg.additional_special_tokens.size() + cfg.added_tokens.size();
  for (const auto& added : cfg.added_tokens) {
    TF_CHECK(!added.id || static_cast<size_t>(*added.id) < id_limit,
             where << ": added token '" << added.content << "' (tokenizer_config.json's added_tokens_decoder) has id "
                   << *added.id << ", past the vocabulary's " << tokenizer.vocab_->id_limit() << " entries and "
                   << id_limit - tokenizer.vocab_->id_limit() << " added tokens");
    tokenizer.add_token(added.content, added.id, added.special, where);
  }

  BasicTokenizerOptions basic;
  basic.lowercase = cfg.do_lower_case;
  basic.strip_accents = cfg.strip_accents;
  basic.handle_chinese_chars = cfg.tokenize_chinese_chars;
  basic.never_split.insert(cfg.never_split.begin(), cfg.never_split.end());
  tokenizer.basic_ = BasicTokenizer(std::move(basic));
  tokenizer.wordpiece_ = std::make_shared<WordPiece>(tokenizer.vocab_, WordPieceOptions{cfg.unk_token, "##", 100});
  tokenizer.model_max_length_ = cfg.model_max_length;
  return tokenizer;
}

BertTokenizer BertTokenizer::from_tokenizer_json(const fs::path& tokenizer_json) {
  TokenizerJson spec = TokenizerJson::read(tokenizer_json);
  const std::string where = tokenizer_json.string();
  BertTokenizer tokenizer;
  tokenizer.vocab_ = std::make_shared<Vocab>(std::move(spec.vocab));
  for (const auto& added : spec.added_tokens) tokenizer.add_token(added.content, added.id, added.special, where);

  tokenizer.unk_token_ = spec.wordpiece.unk_token;
  tokenizer.unk_id_ = tokenizer.vocab_->find(tokenizer.unk_token_);
  TF_CHECK(tokenizer.unk_id_ >= 0,
           where << ": the unknown token '" << tokenizer.unk_token_ << "' is not in the vocabulary");
  tokenizer.pad_token_ = spec.pad_token.value_or("[PAD]");
  tokenizer.pad_id_ = tokenizer.vocab_->find(tokenizer.pad_token_);
  TF_CHECK(tokenizer.pad_id_ >= 0,
           where << ": the padding token '" << tokenizer.pad_token_ << "' is not in the vocabulary");

  if (spec.post_processor) {
    tokenizer.post_processor_ = std::move(*spec.post_processor);
  } else {
    // No post-processor: nothing added; the second sequence still gets type id 1.
    using Kind = TemplatePiece::Kind;
    tokenizer.post_processor_.single = {{Kind::FirstSequence, 0, {}, -1}};
    tokenizer.post_processor_.pair = {{Kind::FirstSequence, 0, {}, -1}, {Kind::SecondSequence, 1, {}, -1}};
  }
  tokenizer.basic_ = BasicTokenizer(std::move(spec.basic));
  tokenizer.wordpiece_ = std::make_shared<WordPiece>(tokenizer.vocab_, std::move(spec.wordpiece));
  tokenizer.model_max_length_ = 512;
  return tokenizer;
}

BertTokenizer BertTokenizer::from_pretrained(const fs::path& dir) {
  TF_CHECK(fs::is_directory(dir), dir.string() << ": not a directory (expected a model directory with vocab.txt)");
  if (fs::exists(dir / "vocab.txt")) {
    return from_vocab_file(dir / "vocab.txt", BertTokenizerConfig::from_directory(dir));
  }
  TF_CHECK(fs::exists(dir / "tokenizer.json"), dir.string() << ": neither vocab.txt nor tokenizer.json found");
  BertTokenizer tokenizer = from_tokenizer_json(dir / "tokenizer.json");
  if (fs::exists(dir / "tokenizer_config.json")) {
    tokenizer.model_max_length_ = BertTokenizerConfig::from_json_file(dir / "tokenizer_config.json").model_max_length;
  }
  return tokenizer;
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  unicode::check_utf8(text);
  std::vector<std::string> tokens;
  std::vector<std::string> words;
  for (const auto& segment : added_tokens_.split(text)) {
    if (segment.is_added_token) {
      tokens.emplace_back(segment.text);
      continue;
    }
    words.clear();
    basic_.tokenize(segment.text, words);
    for (const auto& word : words) {
      if (basic_.is_never_split(word)) {
        tokens.push_back(word);
      } else {
        wordpiece_->tokenize(word, tokens);
      }
    }
  }
  return tokens;
}

TokenSequence BertTokenizer::to_sequence(std::string_view text) const {
  TokenSequence sequence;
  sequence.tokens = tokenize(text);
  sequence.ids.reserve(sequence.tokens.size());
  for (const auto& token : sequence.tokens) {
    const int32_t id = vocab_->find(token);
    sequence.ids.push_back(id >= 0 ? id : unk_id_);
  }
  return sequence;
}

std::optional<size_t> BertTokenizer::effective_max_length(const EncodeOptions& opt) const {
  if (opt.max_length) return opt.max_length;
  const bool needs_length = opt.truncation != Truncation::None || opt.padding == Padding::MaxLength;
  if (needs_length && model_max_length_ != kNoModelMaxLength) return model_max_length_;
  return std::nullopt;
}

Encoding BertTokenizer::encode_unpadded(std::string_view text, const std::string_view* pair,
                                        const EncodeOptions& opt) const {
  TokenSequence first = to_sequence(text);
  TokenSequence second;
  if (pair) {
    try {
      second = to_sequence(*pair);
    } catch (const Error& e) {
      TF_FAIL("second text of the pair: " << e.what());
    }
  }
  TokenSequence* second_ptr = pair ? &second : nullptr;
  const auto max_length = effective_max_length(opt);
  const size_t total = first.size() + second.size() +
                       (opt.add_special_tokens ? post_processor_.num_special_tokens(pair != nullptr) : 0);
  // As transformers: a max_length of 0 means no truncation.
  if (opt.truncation != Truncation::None && max_length && *max_length > 0 && total > *max_length) {
    truncate_sequences(first, second_ptr, total - *max_length, opt.truncation);
  }
  return post_processor_.apply(first, second_ptr, opt.add_special_tokens);
}

Encoding BertTokenizer::encode(std::string_view text, const EncodeOptions& opt) const {
  Encoding encoding = encode_unpadded(text, nullptr, opt);
  if (opt.padding == Padding::MaxLength) {
    if (auto length = effective_max_length(opt)) pad_encoding(encoding, *length, pad_token_, pad_id_);
  }
  return encoding;
}

Encoding BertTokenizer::encode_pair(std::string_view text, std::string_view pair, const EncodeOptions& opt) const {
  Encoding encoding = encode_unpadded(text, &pair, opt);
  if (opt.padding == Padding::MaxLength) {
    if (auto length = effective_max_length(opt)) pad_encoding(encoding, *length, pad_token_, pad_id_);
  }
  return encoding;
}

std::vector<Encoding> BertTokenizer::encode_batch(const std::vector<std::string>& texts,
                                                  const std::vector<std::string>& pairs,
                                                  const EncodeOptions& opt) const {
  TF_CHECK(pairs.empty() || pairs.size() == texts.size(),
           "encode_batch: " << pairs.size() << " pair texts for " << texts.size() << " texts");
  std::vector<Encoding> encodings;
  encodings.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      encodings.push_back(pairs.empty() ? encode(texts[i], opt) : encode_pair(texts[i], pairs[i], opt));
    } catch (const Error& e) {
      TF_FAIL("batch text " << i << ": " << e.what());
    }
  }
  if (opt.padding == Padding::Longest) {
    size_t longest = 0;
    for (const auto& encoding : encodings) longest = std::max(longest, encoding.size());
    for (auto& encoding : encodings) pad_encoding(encoding, longest, pad_token_, pad_id_);
  }
  return encodings;
}

namespace {

// transformers' convert_tokens_to_string: join with spaces, glue continuations, strip.
std::string join_tokens(const std::vector<const std::string*>& tokens, const std::string& continuation_prefix) {
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) text.push_back(' ');
    text += *tokens[i];
  }
  text = replace_all(std::move(text), " " + continuation_prefix, "");
  const size_t first = text.find_first_not_of(" \t\n\r\v\f");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\n\r\v\f") - first + 1);
}

}  // namespace

std::string BertTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens,
                                  bool clean_up_tokenization_spaces) const {
  // Added tokens that are neither special nor ordinary words are decoded on
  // their own, without "##" gluing, as transformers' _decode does.
  std::vector<std::string> parts;
  std::vector<const std::string*> run;
  const std::string& prefix = wordpiece_->options().continuing_subword_prefix;
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special_id(id)) continue;
    const std::string* token = vocab_->token(id);
    if (!token) token = &unk_token_;
    if (non_special_added_tokens_.count(*token)) {
      if (!run.empty()) parts.push_back(join_tokens(run, prefix));
      run.clear();
      parts.push_back(*token);
    } else {
      run.push_back(token);
    }
  }
  if (!run.empty()) parts.push_back(join_tokens(run, prefix));

  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text.push_back(' ');
    text += parts[i];
  }
  if (clean_up_tokenization_spaces) text = clean_up_tokenization(std::move(text));
  return text;
}

int32_t BertTokenizer::token_to_id(std::string_view token) const { return vocab_->find(token); }

const std::string& BertTokenizer::id_to_token(int32_t id) const {
  const std::string* token = vocab_->token(id);
  TF_CHECK(token, "id_to_token: no token has id " << id << " (vocabulary ids 0.." << vocab_->id_limit() - 1 << ")");
  return *token;
}

}  // namespace tformer::tokenizers
