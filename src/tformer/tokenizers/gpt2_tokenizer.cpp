// GPT-2's byte-level BPE tokenizer: loading its files, encoding, decoding.
#include "tformer/tokenizers/gpt2_tokenizer.h"

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"
#include "tformer/tokenizers/text_cleanup.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer::tokenizers {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Words longer than this are rare and not worth keeping; the cache is
// emptied when it holds this many words, so it stays a few MB at most.
constexpr size_t kMaxCachedWordBytes = 64;
constexpr size_t kMaxCachedWords = 50'000;

const json& member(const json& object, const char* key) {
  static const json kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string type_of(const json& component) {
  const json& type = member(component, "type");
  return type.is_string() ? type.get<std::string>() : std::string("(none)");
}

std::string quoted(const std::string& token) { return io::json_excerpt(json(token)); }

// Token → id, every id in [0, id_limit) and no id given to two tokens, so the
// id table is never larger than what the file holds.
Vocab read_vocab(const json& vocab, size_t id_limit, const std::string& where) {
  TF_CHECK(vocab.is_object(), where << ": expected an object of token → id, got " << io::json_excerpt(vocab));
  Vocab out;
  for (const auto& [token, id_value] : vocab.items()) {
    const auto id = static_cast<int32_t>(
        io::json_to_int(id_value, 0, static_cast<int64_t>(id_limit) - 1, where + ": token " + quoted(token)));
    if (const std::string* other = out.token(id)) {
      TF_FAIL(where << ": token " << quoted(token) << ": id " << id << " is also token " << quoted(*other));
    }
    out.set(token, id);
  }
  TF_CHECK(out.size() > 0, where << ": the vocabulary is empty");
  return out;
}

// Adds the merge of `left` and `right`, both tokens of the vocabulary, as is
// what they merge into.
void add_merge(const Vocab& vocab, const std::string& left, const std::string& right, byte_level::BpeMerges& merges,
               const std::string& where) {
  const int32_t left_id = vocab.find(left), right_id = vocab.find(right);
  TF_CHECK(left_id >= 0, where << ": token " << quoted(left) << " is not in the vocabulary");
  TF_CHECK(right_id >= 0, where << ": token " << quoted(right) << " is not in the vocabulary");
  const int32_t merged_id = vocab.find(left + right);
  TF_CHECK(merged_id >= 0, where << ": the merged token " << quoted(left + right) << " is not in the vocabulary");
  merges.add(left_id, right_id, merged_id);
}

std::string read_text_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  TF_CHECK(file, path.string() << ": cannot read: no such file or not readable");
  std::ostringstream text;
  text << file.rdbuf();
  TF_CHECK(!file.bad(), path.string() << ": read error");
  return text.str();
}

// The parts of a line split on whitespace, as Python's str.split().
std::vector<std::string> split_on_space(std::string_view line) {
  std::vector<std::string> parts;
  std::string part;
  for (size_t pos = 0; pos < line.size();) {
    const size_t start = pos;
    if (unicode::is_python_space(unicode::decode_utf8_at(line, pos))) {
      if (!part.empty()) parts.push_back(std::move(part));
      part.clear();
    } else {
      part.append(line.substr(start, pos - start));
    }
  }
  if (!part.empty()) parts.push_back(std::move(part));
  return parts;
}

// merges.txt: "#version: 0.2", then one "left right" a line, by rank. Blank
// lines are skipped (GPT2Tokenizer reads them as a rule that never applies).
byte_level::BpeMerges read_merges_txt(const fs::path& path, const Vocab& vocab) {
  const std::string text = read_text_file(path);
  try {
    unicode::check_utf8(text);
  } catch (const Error& e) {
    TF_FAIL(path.string() << ": " << e.what());
  }
  byte_level::BpeMerges merges;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line_number == 1 && line.starts_with("#version")) continue;
    const std::vector<std::string> parts = split_on_space(line);
    if (parts.empty()) continue;
    const std::string where = path.string() + ": line " + std::to_string(line_number);
    TF_CHECK(parts.size() == 2, where << ": expected two tokens separated by a space, got " << parts.size());
    add_merge(vocab, parts[0], parts[1], merges, where);
  }
  return merges;
}


// The bytes a token string stands for: its characters through the byte
// alphabet, or, when one is outside it (an added token such as "<pad>" is
// not), its own UTF-8, as the tokenizers library's ByteLevel decoder does.
std::string bytes_of(const std::string& token) {
  std::optional<std::string> bytes = byte_level::from_alphabet(token);
  return bytes ? std::move(*bytes) : token;
}

// The one ByteLevel pre-tokenizer of a tokenizer.json (alone, or the only
// member of a Sequence); an Error naming the field for anything else.
const json& byte_level_pre_tokenizer(const json& pre_tokenizer) {
  const json* component = &pre_tokenizer;
  if (type_of(pre_tokenizer) == "Sequence") {
    const json& members = member(pre_tokenizer, "pretokenizers");
    TF_CHECK(members.is_array() && members.size() == 1,
             "\"pre_tokenizer\": a Sequence is supported only with one member, a ByteLevel");
    component = &members[0];
  }
  TF_CHECK(type_of(*component) == "ByteLevel",
           "\"pre_tokenizer\": type " << type_of(*component) << " is not supported (only ByteLevel)");
  const json& use_regex = member(*component, "use_regex");
  TF_CHECK(use_regex.is_null() || use_regex == true,
           "\"pre_tokenizer\": ByteLevel without GPT-2's pattern (use_regex false) is not supported");
  return *component;
}

void check_byte_level_or_none(const json& component, const char* field) {
  TF_CHECK(component.is_null() || type_of(component) == "ByteLevel",
           "\"" << field << "\": type " << type_of(component) << " is not supported (only ByteLevel or none)");
}

}  // namespace

// ---- Configuration --------------------------------------------------------

void Gpt2TokenizerConfig::update_from_json(const json& config, const std::string& where) {
  TF_CHECK(config.is_object(), where << ": expected a JSON object");
  read_token_field(config, "bos_token", bos_token, where);
  read_token_field(config, "eos_token", eos_token, where);
  read_token_field(config, "unk_token", unk_token, where);
  read_token_field(config, "pad_token", pad_token, where);
  read_bool_field(config, "add_bos_token", add_bos_token, where);
  read_bool_field(config, "add_prefix_space", add_prefix_space, where);
  read_bool_field(config, "clean_up_tokenization_spaces", clean_up_tokenization_spaces, where);
  if (const json& tokens = member(config, "additional_special_tokens"); tokens.is_array()) {
    additional_special_tokens.clear();
    for (const auto& token : tokens) {
      additional_special_tokens.push_back(token_content(token, where + ": \"additional_special_tokens\""));
    }
  }
  if (const json& decoder = member(config, "added_tokens_decoder"); decoder.is_object()) {
    added_tokens = read_added_tokens_decoder(decoder, where);
  }
}

Gpt2TokenizerConfig Gpt2TokenizerConfig::from_directory(const fs::path& dir) {
  Gpt2TokenizerConfig config;
  // special_tokens_map.json last: transformers lets its tokens override.
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path path = dir / name;
    if (fs::exists(path)) config.update_from_json(io::read_json_file(path), path.string());
  }
  return config;
}

// ---- Loading --------------------------------------------------------------

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::from_pretrained(const fs::path& dir) {
  const Gpt2TokenizerConfig config = Gpt2TokenizerConfig::from_directory(dir);
  if (fs::exists(dir / "vocab.json") || !fs::exists(dir / "tokenizer.json")) {
    return from_files(dir / "vocab.json", dir / "merges.txt", config);
  }
  return from_tokenizer_json(dir / "tokenizer.json", config);
}

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::from_files(const fs::path& vocab_json, const fs::path& merges_txt,
                                                         const Gpt2TokenizerConfig& config) {
  // The added tokens may take ids past the vocabulary's.
  const json vocab_object = io::read_json_file(vocab_json);
  Vocab vocab = read_vocab(vocab_object, vocab_object.size() + config.added_tokens.size(), vocab_json.string());
  byte_level::BpeMerges merges = read_merges_txt(merges_txt, vocab);
  return std::unique_ptr<Gpt2Tokenizer>(
      new Gpt2Tokenizer(std::move(vocab), std::move(merges), config, Flavor::Transformers, vocab_json.string()));
}

std::unique_ptr<Gpt2Tokenizer> Gpt2Tokenizer::from_tokenizer_json(const fs::path& path,
                                                                  const Gpt2TokenizerConfig& config) {
  const json root = io::read_json_file(path);
  try {
    TF_CHECK(root.is_object(), "expected a JSON object");
    const json& model = member(root, "model");
    TF_CHECK(type_of(model) == "BPE", "\"model.type\": " << type_of(model) << " is not BPE");
    const json& pre_tokenizer = byte_level_pre_tokenizer(member(root, "pre_tokenizer"));
    TF_CHECK(member(root, "normalizer").is_null(),
             "\"normalizer\": type " << type_of(member(root, "normalizer")) << " is not supported (only none)");
    check_byte_level_or_none(member(root, "decoder"), "decoder");
    check_byte_level_or_none(member(root, "post_processor"), "post_processor");
    TF_CHECK(member(model, "dropout").is_null(), "\"model.dropout\": BPE dropout is not supported");
    TF_CHECK(member(model, "byte_fallback").is_null() || member(model, "byte_fallback") == false,
             "\"model.byte_fallback\": byte fallback is not supported");
    for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const json& value = member(model, affix);
      TF_CHECK(value.is_null() || value == "", "\"model." << affix << "\": not supported, got "
                                                           << io::json_excerpt(value));
    }

    Gpt2TokenizerConfig file_config = config;
    const json& added_tokens = member(root, "added_tokens");
    TF_CHECK(added_tokens.is_null() || added_tokens.is_array(), "\"added_tokens\": expected a list");
    const json& vocab_object = member(model, "vocab");
    const size_t id_limit = vocab_object.size() + added_tokens.size();
    file_config.added_tokens.clear();
    for (const auto& token : added_tokens) {
      const json& content = member(token, "content");
      TF_CHECK(content.is_string(), "\"added_tokens\": expected \"content\" strings, got " << io::json_excerpt(token));
      const auto id = static_cast<int32_t>(io::json_to_int(member(token, "id"), 0, int64_t(id_limit) - 1,
                                                           "\"added_tokens\": " + quoted(content.get<std::string>())));
      bool special = false;
      read_bool_field(token, "special", special, "\"added_tokens\"");
      file_config.added_tokens.push_back({content.get<std::string>(), special, id});
    }
    // The model's own unk_token (GPT-2's is null), not transformers' default.
    file_config.unk_token.reset();
    read_token_field(model, "unk_token", file_config.unk_token, "\"model\"");
    read_bool_field(pre_tokenizer, "add_prefix_space", file_config.add_prefix_space, "\"pre_tokenizer\"");

    Vocab vocab = read_vocab(vocab_object, id_limit, "\"model.vocab\"");
    byte_level::BpeMerges merges;
    const json& merges_list = member(model, "merges");
    TF_CHECK(merges_list.is_array(), "\"model.merges\": expected a list");
    for (size_t i = 0; i < merges_list.size(); ++i) {
      const json& merge = merges_list[i];
      const std::string where = "\"model.merges\" [" + std::to_string(i) + "]";
      // "left right", or ["left", "right"] in newer files.
      std::vector<std::string> parts;
      if (merge.is_string()) {
        const std::string text = merge.get<std::string>();
        const size_t space = text.find(' ');
        if (space != std::string::npos && text.find(' ', space + 1) == std::string::npos) {
          parts = {text.substr(0, space), text.substr(space + 1)};
        }
      } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
        parts = {merge[0].get<std::string>(), merge[1].get<std::string>()};
      }
      TF_CHECK(parts.size() == 2, where << ": expected \"left right\" or [\"left\", \"right\"], got "
                                        << io::json_excerpt(merge));
      add_merge(vocab, parts[0], parts[1], merges, where);
    }
    const json& ignore_merges = member(model, "ignore_merges");
    TF_CHECK(ignore_merges.is_null() || ignore_merges.is_boolean(), "\"model.ignore_merges\": expected true or false");

    auto tokenizer = std::unique_ptr<Gpt2Tokenizer>(
        new Gpt2Tokenizer(std::move(vocab), std::move(merges), file_config, Flavor::Tokenizers, path.string()));
    tokenizer->ignore_merges_ = ignore_merges == true;
    return tokenizer;
  } catch (const json::exception& e) {
    TF_FAIL(path.string() << ": unexpected structure: " << e.what());
  } catch (const Error& e) {
    TF_FAIL(path.string() << ": " << e.what());
  }
}

bool Gpt2Tokenizer::recognizes(const fs::path& dir) {
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) return true;
  if (!fs::exists(dir / "tokenizer.json")) return false;
  try {
    const json root = io::read_json_file(dir / "tokenizer.json");
    if (!root.is_object() || type_of(member(root, "model")) != "BPE") return false;
    byte_level_pre_tokenizer(member(root, "pre_tokenizer"));
    return true;
  } catch (const Error&) {
    return false;
  }
}

Gpt2Tokenizer::Gpt2Tokenizer(Vocab vocab, byte_level::BpeMerges merges, const Gpt2TokenizerConfig& config,
                             Flavor flavor, const std::string& origin)
    : vocab_(std::move(vocab)), merges_(std::move(merges)), config_(config), flavor_(flavor) {
  ids_.resize(vocab_.id_limit());
  for (size_t id = 0; id < ids_.size(); ++id) {
    if (const std::string* token = vocab_.token(static_cast<int32_t>(id))) {
      ids_[id] = IdInfo{*token, bytes_of(*token), true, false, false, false};
    }
  }
  for (unsigned b = 0; b < 256; ++b) {
    const int32_t id = vocab_.find(byte_level::to_alphabet(std::string(1, static_cast<char>(b))));
    byte_symbols_[b] = id >= 0 ? id : -1 - static_cast<int32_t>(b);
  }

  const size_t added_id_limit = vocab_.id_limit() + config.added_tokens.size();
  for (const AddedToken& added : config.added_tokens) {
    TF_CHECK(added.id && size_t(*added.id) < added_id_limit,
             origin << ": added token " << quoted(added.content) << ": id " << added.id.value_or(-1)
                    << " is past the vocabulary and the added tokens (" << added_id_limit << " ids)");
    add_token(added.content, *added.id, added.special, origin);
  }
  // The special tokens: transformers adds each to the added tokens (with the
  // vocabulary's id, or the next free one); the tokenizers library only
  // looks them up.
  std::vector<std::pair<std::string, bool>> specials;  // content, named (bos/eos/unk/pad)
  for (const auto* token : {&config.bos_token, &config.eos_token, &config.unk_token, &config.pad_token}) {
    if (*token) specials.emplace_back(**token, true);
  }
  for (const std::string& token : config.additional_special_tokens) specials.emplace_back(token, false);
  for (const auto& [content, named] : specials) {
    auto known = added_ids_.find(content);
    if (known == added_ids_.end()) {
      if (flavor_ == Flavor::Tokenizers) continue;
      const int32_t id = vocab_.find(content);
      add_token(content, id >= 0 ? id : static_cast<int32_t>(ids_.size()), true, origin);
      known = added_ids_.find(content);
    }
    IdInfo& info = ids_[size_t(known->second)];
    info.special = true;
    // transformers' decode writes apart only an additional special token past
    // the vocabulary, never bos/eos/unk/pad.
    info.decoded_apart = flavor_ == Flavor::Transformers && !named && size_t(known->second) >= vocab_.size();
  }
  bos_id_ = named_token_id(config.bos_token);
  eos_id_ = named_token_id(config.eos_token);
  unk_id_ = named_token_id(config.unk_token);
}

void Gpt2Tokenizer::add_token(const std::string& content, int32_t id, bool special, const std::string& origin) {
  TF_CHECK(!content.empty(), origin << ": an added token is empty");
  const auto index = static_cast<size_t>(id);
  if (index >= ids_.size()) ids_.resize(index + 1);
  IdInfo& info = ids_[index];
  TF_CHECK(!info.added || info.token == content, origin << ": added tokens " << quoted(info.token) << " and "
                                                        << quoted(content) << " both have id " << index);
  // transformers writes an added token apart in decoded text unless it is a
  // special token (which the constructor then settles).
  info = IdInfo{content, bytes_of(content), true, true, special, flavor_ == Flavor::Transformers};
  added_ids_[content] = id;
  added_splitter_.add(content);
}

std::optional<int32_t> Gpt2Tokenizer::named_token_id(const std::optional<std::string>& token) const {
  if (!token) return std::nullopt;
  return token_to_id(*token);
}

std::optional<int32_t> Gpt2Tokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_ids_.find(std::string(token)); it != added_ids_.end()) return it->second;
  const int32_t id = vocab_.find(token);
  return id >= 0 ? std::optional<int32_t>(id) : std::nullopt;
}

// ---- Encoding and decoding ------------------------------------------------

std::vector<int32_t> Gpt2Tokenizer::word_symbols(std::string_view word) const {
  if (ignore_merges_) {
    if (const int32_t id = vocab_.find(byte_level::to_alphabet(word)); id >= 0) return {id};
  }
  const bool cached = word.size() <= kMaxCachedWordBytes;
  std::string key;
  if (cached) {
    key.assign(word);
    std::shared_lock lock(cache_mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  std::vector<int32_t> symbols;
  symbols.reserve(word.size());
  for (char b : word) symbols.push_back(byte_symbols_[static_cast<uint8_t>(b)]);
  merges_.apply(symbols);
  if (cached) {
    std::unique_lock lock(cache_mutex_);
    if (cache_.size() >= kMaxCachedWords) cache_.clear();
    cache_.emplace(std::move(key), symbols);
  }
  return symbols;
}

void Gpt2Tokenizer::encode_plain(std::string_view text, Encoding& out) const {
  for (std::string_view word : byte_level::split_words(text)) {
    for (int32_t symbol : word_symbols(word)) {
      if (symbol >= 0) {
        out.input_ids.push_back(symbol);
        out.tokens.push_back(ids_[size_t(symbol)].token);
        continue;
      }
      // A byte whose one-character token the vocabulary lacks: the unknown token.
      const auto byte = static_cast<uint8_t>(-1 - symbol);
      TF_CHECK(unk_id_, "byte-level BPE: the byte 0x" << std::hex << unsigned(byte)
                                                      << " has no token and there is no unk_token");
      out.input_ids.push_back(*unk_id_);
      out.tokens.push_back(byte_level::to_alphabet(std::string(1, static_cast<char>(byte))));
    }
  }
}

Encoding Gpt2Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  unicode::check_utf8(text);
  Encoding out;
  if (add_special_tokens && config_.add_bos_token && flavor_ == Flavor::Transformers && bos_id_) {
    out.input_ids.push_back(*bos_id_);
    out.tokens.push_back(*config_.bos_token);
  }
  // GPT2Tokenizer puts the prefix space before the whole text; the tokenizers
  // library before each piece between added tokens that lacks one.
  const bool prefix_whole_text = config_.add_prefix_space && flavor_ == Flavor::Transformers;
  const bool prefix_each_piece = config_.add_prefix_space && flavor_ == Flavor::Tokenizers;
  const std::string prefixed = prefix_whole_text ? " " + std::string(text) : std::string();
  for (const TextSegment& segment : added_splitter_.split(prefix_whole_text ? prefixed : text)) {
    if (segment.is_added_token) {
      out.input_ids.push_back(added_ids_.at(std::string(segment.text)));
      out.tokens.emplace_back(segment.text);
    } else if (prefix_each_piece && !segment.text.starts_with(' ')) {
      encode_plain(" " + std::string(segment.text), out);
    } else {
      encode_plain(segment.text, out);
    }
  }
  out.token_type_ids.assign(out.input_ids.size(), 0);
  out.attention_mask.assign(out.input_ids.size(), 1);
  return out;
}

std::string Gpt2Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  // transformers joins the pieces between tokens written apart with spaces.
  std::vector<std::string> pieces;
  std::string pending_bytes;
  bool pending = false;
  for (int32_t id : ids) {
    TF_CHECK(id >= 0 && size_t(id) < ids_.size() && ids_[size_t(id)].present,
             "decode: id " << id << " is not in the vocabulary (" << ids_.size() << " ids)");
    const IdInfo& info = ids_[size_t(id)];
    if (skip_special_tokens && info.special) continue;
    if (info.decoded_apart) {
      if (pending) {
        std::string text = unicode::decode_utf8_replacing(pending_bytes);
        if (!text.empty()) pieces.push_back(std::move(text));
        pending_bytes.clear();
        pending = false;
      }
      pieces.push_back(info.token);
    } else {
      pending_bytes += info.bytes;
      pending = true;
    }
  }
  if (pending) pieces.push_back(unicode::decode_utf8_replacing(pending_bytes));
  std::string text;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) text += ' ';
    text += pieces[i];
  }
  return config_.clean_up_tokenization_spaces ? clean_up_tokenization(std::move(text)) : text;
}

std::string Gpt2Tokenizer::token_bytes(int32_t id) const {
  TF_CHECK(id >= 0 && size_t(id) < ids_.size() && ids_[size_t(id)].present,
           "token_bytes: id " << id << " is not in the vocabulary (" << ids_.size() << " ids)");
  return ids_[size_t(id)].bytes;
}

bool Gpt2Tokenizer::is_special_id(int32_t id) const {
  return id >= 0 && size_t(id) < ids_.size() && ids_[size_t(id)].special;
}

}  // namespace tformer::tokenizers
