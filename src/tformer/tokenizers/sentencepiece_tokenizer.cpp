// SentencePieceTokenizer (see sentencepiece_tokenizer.h): loading and the
// checks on the piece table, the normalizer, the BPE merge loop, and decode
// as LlamaTokenizer.convert_tokens_to_string and sp_model.decode do it.
#include "tformer/tokenizers/sentencepiece_tokenizer.h"

#include <algorithm>
#include <queue>

#include <nlohmann/json.hpp>

#include "tformer/core/error.h"
#include "tformer/io/json_file.h"
#include "tformer/tokenizers/llama2c_tokenizer_file.h"
#include "tformer/tokenizers/text_cleanup.h"
#include "tformer/tokenizers/unicode.h"

namespace tformer::tokenizers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // ▁, which SentencePiece writes for a space
constexpr uint32_t kNone = UINT32_MAX;  // no symbol: merge loop indices are 32-bit (encode checks the size)

bool starts_with_space_symbol(std::string_view s) { return s.substr(0, kSpaceSymbol.size()) == kSpaceSymbol; }

// The byte a piece "<0xNN>" stands for.
std::optional<uint8_t> byte_of_piece(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return std::nullopt;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (digit < 0) return std::nullopt;
    value = value * 16 + digit;
  }
  return static_cast<uint8_t>(value);
}

std::string byte_piece_text(int byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">";
}

// The pieces SentencePiece segments text into (its "pieces_"); control,
// unknown and byte pieces are only ever ids.
bool is_segment_piece(PieceType type) {
  return type == PieceType::Normal || type == PieceType::UserDefined || type == PieceType::Unused;
}

size_t utf8_length(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

void refuse_stripping(const json& token, const std::string& where) {
  if (!token.is_object()) return;
  for (const char* key : {"lstrip", "rstrip", "single_word"}) {
    auto it = token.find(key);
    TF_CHECK(it == token.end() || !it->is_boolean() || !it->get<bool>(),
             where << ": \"" << key << "\": true is not supported for SentencePiece tokenizers");
  }
}

void update_config(LlamaTokenizerConfig& config, const json& file, const std::string& where) {
  TF_CHECK(file.is_object(), where << ": expected a JSON object");
  read_bool_field(file, "legacy", config.legacy, where);
  read_bool_field(file, "add_bos_token", config.add_bos_token, where);
  read_bool_field(file, "add_eos_token", config.add_eos_token, where);
  read_bool_field(file, "add_prefix_space", config.add_prefix_space, where);
  read_bool_field(file, "clean_up_tokenization_spaces", config.clean_up_tokenization_spaces, where);
  const std::pair<const char*, std::optional<std::string>*> named[] = {
      {"bos_token", &config.bos_token},
      {"eos_token", &config.eos_token},
      {"unk_token", &config.unk_token},
      {"pad_token", &config.pad_token}};
  for (const auto& [key, field] : named) {
    read_token_field(file, key, *field, where);
    if (auto it = file.find(key); it != file.end()) refuse_stripping(*it, where + ": \"" + key + "\"");
  }
  if (auto it = file.find("additional_special_tokens"); it != file.end() && !it->is_null()) {
    TF_CHECK(it->is_array(), where << ": \"additional_special_tokens\" must be a list");
    config.additional_special_tokens.clear();
    for (const auto& token : *it) {
      config.additional_special_tokens.push_back(token_content(token, where + ": \"additional_special_tokens\""));
      refuse_stripping(token, where + ": \"additional_special_tokens\"");
    }
  }
  if (auto it = file.find("added_tokens_decoder"); it != file.end() && !it->is_null()) {
    TF_CHECK(it->is_object(), where << ": \"added_tokens_decoder\" must be an object");
    for (const auto& [id_text, token] : it->items()) {
      const std::string token_where = where + ": \"added_tokens_decoder\" \"" + id_text + "\"";
      const auto id = io::json_key_to_int(id_text, INT32_MAX);
      TF_CHECK(id.has_value(), token_where << ": the key is not a token id");
      refuse_stripping(token, token_where);
      bool special = true;
      if (token.is_object()) read_bool_field(token, "special", special, token_where);
      TF_CHECK(special, token_where << ": non-special added tokens are not supported for SentencePiece tokenizers");
      config.added_tokens.push_back({token_content(token, token_where), true, static_cast<int32_t>(*id)});
    }
  }
}

}  // namespace

LlamaTokenizerConfig LlamaTokenizerConfig::from_directory(const fs::path& dir) {
  LlamaTokenizerConfig config;
  // special_tokens_map.json last: its tokens override tokenizer_config.json's, as in transformers.
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const auto path = dir / name;
    if (fs::exists(path)) update_config(config, io::read_json_file(path), path.string());
  }
  return config;
}

SentencePieceTokenizer::SentencePieceTokenizer(SentencePieceModel model, LlamaTokenizerConfig config,
                                               std::string origin)
    : origin_(std::move(origin)), pieces_(std::move(model.pieces)), settings_(std::move(model)),
      config_(std::move(config)) {
  TF_CHECK(!pieces_.empty(), origin_ << ": the model has no pieces");
  TF_CHECK(pieces_.size() <= size_t(INT32_MAX), origin_ << ": " << pieces_.size() << " pieces is too many");
  std::optional<int32_t> unk;
  std::array<bool, 256> has_byte{};
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    const SentencePiece& p = pieces_[i];
    // decode and token_bytes return piece texts: they must be text.
    TF_CHECK(!unicode::find_invalid_utf8(p.text), origin_ << ": pieces[" << i << "] is not valid UTF-8");
    const auto [it, inserted] = piece_ids_.emplace(p.text, id);
    TF_CHECK(inserted, origin_ << ": pieces[" << i << "] '" << p.text << "' is already pieces[" << it->second << "]");
    if (p.type == PieceType::Unknown) {
      TF_CHECK(!unk, origin_ << ": pieces[" << i << "]: a second <unk> piece (the first is pieces[" << *unk << "])");
      unk = id;
    } else if (p.type == PieceType::Byte) {
      const auto byte = byte_of_piece(p.text);
      TF_CHECK(byte, origin_ << ": pieces[" << i << "] '" << p.text << "' is a byte piece but not <0xNN>");
      TF_CHECK(settings_.byte_fallback,
               origin_ << ": pieces[" << i << "]: byte piece '" << p.text << "' in a model without byte_fallback");
      has_byte[*byte] = true;
      byte_ids_[*byte] = id;
    } else if (p.type == PieceType::UserDefined) {
      user_defined_.push_back(p.text);
    }
  }
  TF_CHECK(unk, origin_ << ": the model has no <unk> piece (type UNKNOWN)");
  unk_id_ = *unk;
  if (settings_.byte_fallback) {
    const auto missing = std::find(has_byte.begin(), has_byte.end(), false);
    TF_CHECK(missing == has_byte.end(), origin_ << ": byte_fallback is on but the byte piece "
                                                << byte_piece_text(static_cast<int>(missing - has_byte.begin()))
                                                << " is missing");
  }
  // Whether no piece that text merges into holds a ▁ past its first
  // character (SentencePiece's split_by_whitespace training): then no merge
  // crosses the start of a word, and words can be merged one by one.
  merges_stop_at_space_ = settings_.escape_whitespaces &&
                          std::none_of(pieces_.begin(), pieces_.end(), [](const SentencePiece& p) {
                            return is_segment_piece(p.type) && p.text.find(kSpaceSymbol, 1) != std::string::npos;
                          });
  std::sort(user_defined_.begin(), user_defined_.end(),
            [](std::string_view a, std::string_view b) { return a.size() > b.size(); });

  std::vector<std::string> special_tokens = config_.additional_special_tokens;
  for (const auto* token : {&config_.bos_token, &config_.eos_token, &config_.unk_token, &config_.pad_token})
    if (*token) special_tokens.push_back(**token);
  for (const AddedToken& added : config_.added_tokens) {
    const auto id = static_cast<size_t>(*added.id);
    TF_CHECK(id < pieces_.size() && pieces_[id].text == added.content,
             origin_ << ": added token " << *added.id << " '" << added.content << "' is not the model's piece "
                     << *added.id << " (tokens added past the SentencePiece vocabulary are not supported)");
    special_tokens.push_back(added.content);
  }
  for (const std::string& token : special_tokens) {
    const auto id = find_piece(token);
    TF_CHECK(id, origin_ << ": special token '" << token << "' is not a piece of the model");
    special_ids_.insert(*id);
    if (!special_splitter_.contains(token)) special_splitter_.add(token);
  }
  if (config_.bos_token) bos_id_ = find_piece(*config_.bos_token);
  if (config_.eos_token) eos_id_ = find_piece(*config_.eos_token);
  if (!config_.legacy) {
    // As LlamaTokenizer.get_spm_processor: the model's dummy prefix off, and
    // the <unk> text whose pieces append_after_unk drops (str(None) when unset).
    settings_.add_dummy_prefix = false;
    unk_text_ = config_.unk_token.value_or("None");
    Encoding unk_pieces;
    append_sentencepiece(unk_text_, unk_pieces);
    unk_length_ = unk_pieces.size();
  }
}

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_model_file(const fs::path& path) {
  return std::make_unique<SentencePieceTokenizer>(read_sentencepiece_model_file(path), LlamaTokenizerConfig{},
                                                  path.string());
}

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_llama2c_file(const fs::path& path) {
  return std::make_unique<SentencePieceTokenizer>(read_llama2c_tokenizer_file(path), LlamaTokenizerConfig{},
                                                  path.string());
}

namespace {

// llama2.c's tokenizer files in dir: tok*.bin (tokenizer.bin, tok512.bin).
std::vector<fs::path> llama2c_tokenizer_files(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && name.starts_with("tok") && name.ends_with(".bin")) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::from_pretrained(const fs::path& dir) {
  const fs::path model_path = dir / "tokenizer.model";
  if (fs::exists(model_path)) {
    return std::make_unique<SentencePieceTokenizer>(read_sentencepiece_model_file(model_path),
                                                    LlamaTokenizerConfig::from_directory(dir), model_path.string());
  }
  const auto llama2c = llama2c_tokenizer_files(dir);
  TF_CHECK(!llama2c.empty(), dir.string() << ": no tokenizer.model (SentencePiece) or tok*.bin (llama2.c) in it");
  TF_CHECK(llama2c.size() == 1, dir.string() << ": several llama2.c tokenizer files (" << llama2c[0].filename()
                                             << ", " << llama2c[1].filename() << "): name one");
  return from_llama2c_file(llama2c[0]);
}

bool SentencePieceTokenizer::recognizes(const fs::path& dir) {
  return fs::exists(dir / "tokenizer.model") || !llama2c_tokenizer_files(dir).empty();
}

std::optional<int32_t> SentencePieceTokenizer::find_piece(std::string_view text) const {
  const auto it = piece_ids_.find(text);
  if (it == piece_ids_.end()) return std::nullopt;
  return it->second;
}

void SentencePieceTokenizer::check_id(int32_t id) const {
  TF_CHECK(id >= 0 && static_cast<size_t>(id) < pieces_.size(),
           "token id " << id << " is outside the vocabulary (" << pieces_.size() << " tokens, " << origin_ << ")");
}

std::string SentencePieceTokenizer::normalize(std::string_view text) const {
  const std::string_view space = settings_.escape_whitespaces ? kSpaceSymbol : " ";
  const bool remove_extra = settings_.remove_extra_whitespaces;
  if (remove_extra) text.remove_prefix(std::min(text.size(), text.find_first_not_of(' ')));
  std::string out;
  if (text.empty()) return out;  // no dummy prefix for an empty (or all-space) text
  out.reserve(text.size() + space.size());
  if (settings_.add_dummy_prefix) out.append(space);
  bool previous_was_space = remove_extra;
  for (char c : text) {
    if (c == ' ') {
      if (!previous_was_space) out.append(space);
      previous_was_space = remove_extra;
    } else {
      out.push_back(c);
      previous_was_space = false;
    }
  }
  // SentencePiece drops trailing spaces after escaping them, so a ▁ written
  // in the text at its end goes too.
  if (remove_extra)
    while (out.size() >= space.size() && std::string_view(out).substr(out.size() - space.size()) == space)
      out.resize(out.size() - space.size());
  return out;
}

size_t SentencePieceTokenizer::user_defined_match(std::string_view text, size_t pos) const {
  for (std::string_view piece : user_defined_)
    if (text.substr(pos, piece.size()) == piece) return piece.size();
  return 0;
}

// A symbol of the merge loop: a run of the normalized text, linked to its
// neighbours; merged-away symbols keep size 0.
struct Symbol {
  uint32_t begin, size;
  uint32_t prev, next;
  bool frozen;  // a user-defined piece: never merged
};

// A pair of adjacent symbols whose concatenation is a piece. It is stale once
// either symbol has changed, which the sizes tell.
struct MergeCandidate {
  float score;
  uint32_t left, right, size;
};

// The best score first; among equal scores the leftmost, as SentencePiece.
struct LowerPriority {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    return a.score != b.score ? a.score < b.score : a.left > b.left;
  }
};

void SentencePieceTokenizer::append_sentencepiece(std::string_view text, Encoding& out) const {
  const std::string normalized = normalize(text);
  if (!merges_stop_at_space_) {
    append_bpe(normalized, out);
    return;
  }
  // Each word (a ▁ and what follows up to the next ▁) merges on its own and
  // gives the same pieces wherever it recurs: encode it once per call.
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> encoded;  // word → its range in out
  const std::string_view all(normalized);
  for (size_t begin = 0; begin < all.size();) {
    const size_t end = std::min(all.size(), all.find(kSpaceSymbol, begin + 1));
    const std::string_view word = all.substr(begin, end - begin);
    begin = end;
    if (const auto it = encoded.find(word); it != encoded.end()) {
      for (size_t i = it->second.first; i < it->second.second; ++i) {
        out.tokens.push_back(out.tokens[i]);
        out.input_ids.push_back(out.input_ids[i]);
      }
      continue;
    }
    const size_t first = out.input_ids.size();
    append_bpe(word, out);
    encoded.emplace(word, std::make_pair(first, out.input_ids.size()));
  }
}

void SentencePieceTokenizer::append_bpe(std::string_view all, Encoding& out) const {
  std::vector<Symbol> symbols;
  for (uint32_t pos = 0; pos < all.size();) {
    const size_t user_defined = user_defined_.empty() ? 0 : user_defined_match(all, pos);
    const size_t size = user_defined ? user_defined : std::min(utf8_length(all[pos]), all.size() - pos);
    const auto index = static_cast<uint32_t>(symbols.size());
    symbols.push_back({pos, static_cast<uint32_t>(size), index == 0 ? kNone : index - 1, kNone, user_defined != 0});
    if (index > 0) symbols[index - 1].next = index;
    pos += static_cast<uint32_t>(size);
  }

  UnusedSplits unused_splits;
  const auto candidate = [&](uint32_t left, uint32_t right) -> std::optional<MergeCandidate> {
    if (left == kNone || right == kNone || symbols[left].frozen || symbols[right].frozen) return std::nullopt;
    const std::string_view merged = all.substr(symbols[left].begin, symbols[left].size + symbols[right].size);
    const auto id = find_piece(merged);
    if (!id || !is_segment_piece(pieces_[static_cast<size_t>(*id)].type)) return std::nullopt;
    const SentencePiece& piece = pieces_[static_cast<size_t>(*id)];
    // An unused piece is split back into what it was made of, the split
    // SentencePiece records last for that text.
    if (piece.type == PieceType::Unused)
      unused_splits[merged] = {all.substr(symbols[left].begin, symbols[left].size),
                               all.substr(symbols[right].begin, symbols[right].size)};
    return MergeCandidate{piece.score, left, right, static_cast<uint32_t>(merged.size())};
  };
  std::vector<MergeCandidate> initial;
  for (uint32_t i = 1; i < symbols.size(); ++i)
    if (const auto c = candidate(i - 1, i)) initial.push_back(*c);
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, LowerPriority> agenda(LowerPriority{},
                                                                                        std::move(initial));
  while (!agenda.empty()) {
    const MergeCandidate top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != top.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next != kNone) symbols[right.next].prev = top.left;
    if (const auto c = candidate(left.prev, top.left)) agenda.push(*c);
    if (const auto c = candidate(top.left, left.next)) agenda.push(*c);
  }

  for (uint32_t i = symbols.empty() ? kNone : 0; i != kNone; i = symbols[i].next)
    append_symbol(all.substr(symbols[i].begin, symbols[i].size), unused_splits, out);
}

void SentencePieceTokenizer::append_symbol(std::string_view text, const UnusedSplits& unused_splits,
                                           Encoding& out) const {
  const auto id = find_piece(text);
  if (id && pieces_[static_cast<size_t>(*id)].type == PieceType::Unused) {
    if (const auto split = unused_splits.find(text); split != unused_splits.end()) {
      append_symbol(split->second.first, unused_splits, out);
      append_symbol(split->second.second, unused_splits, out);
      return;
    }
  }
  const bool unknown = !id || *id == unk_id_;
  if (unknown && settings_.byte_fallback) {
    for (char c : text) {
      const int32_t byte_id = byte_ids_[static_cast<uint8_t>(c)];
      out.tokens.push_back(pieces_[static_cast<size_t>(byte_id)].text);
      out.input_ids.push_back(byte_id);
    }
    return;
  }
  // Without byte fallback the token keeps the text it stands for, as sp_model.encode's pieces do.
  out.tokens.emplace_back(text);
  out.input_ids.push_back(id.value_or(unk_id_));
}

void SentencePieceTokenizer::append_id(int32_t id, Encoding& out) const {
  out.tokens.push_back(pieces_[static_cast<size_t>(id)].text);
  out.input_ids.push_back(id);
}

void SentencePieceTokenizer::append_after_unk(std::string_view chunk, Encoding& out) const {
  Encoding with_unk;
  append_sentencepiece(unk_text_ + std::string(chunk), with_unk);
  const size_t skip = with_unk.size() >= unk_length_ ? unk_length_ : 0;
  out.tokens.insert(out.tokens.end(), with_unk.tokens.begin() + skip, with_unk.tokens.end());
  out.input_ids.insert(out.input_ids.end(), with_unk.input_ids.begin() + skip, with_unk.input_ids.end());
}

void SentencePieceTokenizer::append_segments(std::string_view text, Encoding& out) const {
  for (const TextSegment& segment : special_splitter_.split(text)) {
    if (segment.is_added_token) {
      append_id(*find_piece(segment.text), out);
    } else if (!config_.legacy && (starts_with_space_symbol(segment.text) || segment.text[0] == ' ')) {
      // Non-legacy LlamaTokenizer encodes "<unk>" + chunk and drops the
      // <unk>'s pieces, so that a chunk's leading space survives.
      append_after_unk(segment.text, out);
    } else {
      append_sentencepiece(segment.text, out);
    }
  }
}

Encoding SentencePieceTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  unicode::check_utf8(text);
  // The normalized text (at most 3 bytes per space, plus the dummy prefix) must fit the merge loop's 32-bit indices.
  TF_CHECK(text.size() < (size_t(1) << 30),
           "a text of " << text.size() << " bytes is too long to tokenize (1 GiB at most)");
  Encoding body;
  if (config_.legacy || text.empty()) {
    append_segments(text, body);
  } else {
    // Non-legacy LlamaTokenizer.tokenize: ▁ in the text is a space, the
    // prefix space is added by hand (the model's dummy prefix is off), and
    // dropped again when a special token follows it.
    const std::string prepared =
        std::string(config_.add_prefix_space ? kSpaceSymbol : "") + replace_all(std::string(text), kSpaceSymbol, " ");
    append_segments(prepared, body);
    if (body.size() > 1 && body.tokens[0] == kSpaceSymbol && is_special_id(body.input_ids[1])) {
      body.tokens.erase(body.tokens.begin());
      body.input_ids.erase(body.input_ids.begin());
    }
  }
  Encoding out;
  if (add_special_tokens && config_.add_bos_token && bos_id_) append_id(*bos_id_, out);
  out.tokens.insert(out.tokens.end(), std::make_move_iterator(body.tokens.begin()),
                    std::make_move_iterator(body.tokens.end()));
  out.input_ids.insert(out.input_ids.end(), body.input_ids.begin(), body.input_ids.end());
  if (add_special_tokens && config_.add_eos_token && eos_id_) append_id(*eos_id_, out);
  out.attention_mask.assign(out.input_ids.size(), 1);
  out.token_type_ids.assign(out.input_ids.size(), 0);
  return out;
}

std::string SentencePieceTokenizer::sentencepiece_decode(const std::vector<int32_t>& ids, size_t begin, size_t end,
                                                         const std::optional<std::string>& first_override) const {
  std::string text;
  StreamDecoder bytes;  // byte pieces: each byte of an invalid sequence becomes its own U+FFFD, as sp does
  bool strip_leading_space = true;  // sp's is_bos_ws: the dummy prefix not yet removed
  bool space_removed = false;
  const bool removes_prefix = settings_.add_dummy_prefix || settings_.remove_extra_whitespaces;
  for (size_t i = begin; i < end; ++i) {
    const SentencePiece& p = pieces_[static_cast<size_t>(ids[i])];
    if (p.type == PieceType::Byte) {
      const char byte = static_cast<char>(*byte_of_piece(p.text));
      text.append(bytes.push(std::string_view(&byte, 1)));
      continue;
    }
    text.append(bytes.finish());
    if (space_removed || !text.empty()) strip_leading_space = false;
    space_removed = false;
    if (p.type == PieceType::Control) continue;  // invisible
    if (p.type == PieceType::Unknown) {
      text.append(settings_.unk_surface);
      continue;
    }
    std::string_view surface = i == begin && first_override ? std::string_view(*first_override) : p.text;
    if (strip_leading_space && removes_prefix && starts_with_space_symbol(surface)) {
      surface.remove_prefix(kSpaceSymbol.size());
      // With extra whitespace removed, sp strips the ▁ of every piece until text appears.
      space_removed = !settings_.remove_extra_whitespaces;
    }
    text.append(replace_all(std::string(surface), kSpaceSymbol, " "));
  }
  text.append(bytes.finish());
  return text;
}

std::string SentencePieceTokenizer::decode(const std::vector<int32_t>& all_ids, bool skip_special_tokens) const {
  for (int32_t id : all_ids) check_id(id);
  std::vector<int32_t> ids;
  for (int32_t id : all_ids)
    if (!(skip_special_tokens && is_special_id(id))) ids.push_back(id);
  if (ids.empty()) return "";

  // LlamaTokenizer.convert_tokens_to_string: the first token loses its ▁,
  // special tokens are written as they are with the pieces between them
  // decoded by SentencePiece, and legacy mode puts a space before a special
  // token that follows pieces.
  std::optional<std::string> first_override;
  const std::string& first = pieces_[static_cast<size_t>(ids[0])].text;
  if (config_.add_prefix_space && starts_with_space_symbol(first)) first_override = first.substr(kSpaceSymbol.size());
  std::string out;
  size_t run_begin = 0;
  bool previous_special = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& token = i == 0 && first_override ? *first_override : pieces_[static_cast<size_t>(ids[i])].text;
    if (is_special_id(ids[i])) {
      if (!previous_special && i != 0 && config_.legacy) out.push_back(' ');
      out.append(sentencepiece_decode(ids, run_begin, i, run_begin == 0 ? first_override : std::nullopt));
      out.append(token);
      previous_special = true;
      run_begin = i + 1;
    } else {
      if (previous_special && i == 1 && config_.add_prefix_space && !starts_with_space_symbol(token))
        out.push_back(' ');
      previous_special = false;
    }
  }
  out.append(sentencepiece_decode(ids, run_begin, ids.size(), run_begin == 0 ? first_override : std::nullopt));
  return config_.clean_up_tokenization_spaces ? clean_up_tokenization(std::move(out)) : out;
}

const std::string& SentencePieceTokenizer::piece(int32_t id) const {
  check_id(id);
  return pieces_[static_cast<size_t>(id)].text;
}

std::string SentencePieceTokenizer::token_bytes(int32_t id) const {
  check_id(id);
  const SentencePiece& p = pieces_[static_cast<size_t>(id)];
  switch (p.type) {
    case PieceType::Byte: return std::string(1, static_cast<char>(*byte_of_piece(p.text)));
    case PieceType::Control:
    case PieceType::Unknown: return p.text;
    default: return replace_all(p.text, kSpaceSymbol, " ");
  }
}

}  // namespace tformer::tokenizers
