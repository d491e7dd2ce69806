// The protobuf reader behind sentencepiece_model.h: the wire format (varints,
// length-delimited fields, fixed32/fixed64, groups) with every length checked
// against the bytes that remain, and the few ModelProto fields that matter.
#include "tformer/tokenizers/sentencepiece_model.h"

#include <cmath>
#include <cstring>

#include "tformer/core/error.h"
#include "tformer/io/mapped_file.h"

namespace tformer::tokenizers {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// No real model nests groups; a bound keeps skipping a hostile nest of
// start-group tags from recursing without limit.
constexpr int kMaxGroupDepth = 32;

// ModelProto's field numbers (sentencepiece_model.proto).
namespace model_field {
constexpr uint32_t kPieces = 1, kTrainerSpec = 2, kNormalizerSpec = 3, kDenormalizerSpec = 5;
}
namespace piece_field {
constexpr uint32_t kPiece = 1, kScore = 2, kType = 3;
}
namespace trainer_field {
constexpr uint32_t kModelType = 3, kTreatWhitespaceAsSuffix = 24, kByteFallback = 35, kUnkSurface = 44;
}
namespace normalizer_field {
constexpr uint32_t kName = 1, kPrecompiledCharsmap = 2, kAddDummyPrefix = 3, kRemoveExtraWhitespaces = 4,
                   kEscapeWhitespaces = 5;
}
constexpr uint64_t kModelTypeBpe = 2;

const char* model_type_name(uint64_t type) {
  switch (type) {
    case 1: return "UNIGRAM";
    case 2: return "BPE";
    case 3: return "WORD";
    case 4: return "CHAR";
    default: return "unknown";
  }
}

// One message's bytes, read front to back. `where` names the message in
// errors ("tokenizer.model: pieces[7]").
class WireReader {
 public:
  WireReader(std::span<const uint8_t> bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}

  bool at_end() const { return pos_ == bytes_.size(); }
  const std::string& where() const { return where_; }

  uint64_t varint(const char* field) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      TF_CHECK(pos_ < bytes_.size(), where_ << ": " << field << ": varint runs past the end of the data");
      const uint8_t byte = bytes_[pos_++];
      value |= uint64_t(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return value;
    }
    TF_FAIL(where_ << ": " << field << ": varint longer than 10 bytes");
  }

  // A tag's field number and wire type; field 0 is never valid.
  std::pair<uint32_t, uint32_t> tag() {
    const uint64_t key = varint("field tag");
    const uint64_t field = key >> 3;
    TF_CHECK(field != 0 && field <= 0x1FFFFFFF, where_ << ": invalid field number " << field);
    return {static_cast<uint32_t>(field), static_cast<uint32_t>(key & 7)};
  }

  std::span<const uint8_t> length_delimited(const char* field) {
    const uint64_t length = varint(field);
    TF_CHECK(length <= bytes_.size() - pos_, where_ << ": " << field << ": length " << length << " runs past the end ("
                                                    << bytes_.size() - pos_ << " bytes left)");
    const auto out = bytes_.subspan(pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return out;
  }

  std::string string(const char* field) {
    const auto span = length_delimited(field);
    return {reinterpret_cast<const char*>(span.data()), span.size()};
  }

  float fixed32_float(const char* field) {
    TF_CHECK(bytes_.size() - pos_ >= 4, where_ << ": " << field << ": fixed32 runs past the end of the data");
    uint32_t bits = 0;
    for (int i = 0; i < 4; ++i) bits |= uint32_t(bytes_[pos_ + i]) << (8 * i);  // little-endian on the wire
    pos_ += 4;
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }

  // Skips the value of a field this reader does not use.
  void skip(uint32_t field, uint32_t wire, int depth = 0) {
    switch (wire) {
      case kVarint: varint("unknown field"); return;
      case kFixed64: advance(8); return;
      case kFixed32: advance(4); return;
      case kLengthDelimited: length_delimited("unknown field"); return;
      case kStartGroup: {
        TF_CHECK(depth < kMaxGroupDepth, where_ << ": groups nested deeper than " << kMaxGroupDepth);
        for (;;) {
          TF_CHECK(!at_end(), where_ << ": group " << field << " has no end");
          const auto [inner_field, inner_wire] = tag();
          if (inner_wire == kEndGroup) {
            TF_CHECK(inner_field == field, where_ << ": group " << field << " ended by field " << inner_field);
            return;
          }
          skip(inner_field, inner_wire, depth + 1);
        }
      }
      default:
        TF_CHECK(wire != kEndGroup, where_ << ": end of group " << field << " outside any group");
        TF_FAIL(where_ << ": field " << field << " has invalid wire type " << wire);
    }
  }

  // Checks that `field` came with the wire type its declaration implies.
  void expect_wire(uint32_t wire, uint32_t expected, const char* field) const {
    TF_CHECK(wire == expected, where_ << ": " << field << " has wire type " << wire << ", expected " << expected);
  }

 private:
  void advance(size_t n) {
    TF_CHECK(bytes_.size() - pos_ >= n, where_ << ": unknown field runs past the end of the data");
    pos_ += n;
  }

  std::span<const uint8_t> bytes_;
  std::string where_;
  size_t pos_ = 0;
};

SentencePiece parse_piece(WireReader reader) {
  SentencePiece piece;
  while (!reader.at_end()) {
    const auto [field, wire] = reader.tag();
    if (field == piece_field::kPiece) {
      reader.expect_wire(wire, kLengthDelimited, "piece");
      piece.text = reader.string("piece");
    } else if (field == piece_field::kScore) {
      reader.expect_wire(wire, kFixed32, "score");
      piece.score = reader.fixed32_float("score");
    } else if (field == piece_field::kType) {
      reader.expect_wire(wire, kVarint, "type");
      const uint64_t type = reader.varint("type");
      TF_CHECK(type >= 1 && type <= 6, reader.where() << ": type " << type << " is not a SentencePiece piece type");
      piece.type = static_cast<PieceType>(type);
    } else {
      reader.skip(field, wire);
    }
  }
  TF_CHECK(!piece.text.empty(), reader.where() << ": piece is empty");
  // A NaN score would make the merge order undefined.
  TF_CHECK(!std::isnan(piece.score), reader.where() << ": score is NaN");
  return piece;
}

bool parse_bool(WireReader& reader, uint32_t wire, const char* field) {
  reader.expect_wire(wire, kVarint, field);
  return reader.varint(field) != 0;
}

void parse_trainer_spec(WireReader reader, SentencePieceModel& model, uint64_t& model_type) {
  while (!reader.at_end()) {
    const auto [field, wire] = reader.tag();
    if (field == trainer_field::kModelType) {
      reader.expect_wire(wire, kVarint, "model_type");
      model_type = reader.varint("model_type");
    } else if (field == trainer_field::kByteFallback) {
      model.byte_fallback = parse_bool(reader, wire, "byte_fallback");
    } else if (field == trainer_field::kTreatWhitespaceAsSuffix) {
      model.treat_whitespace_as_suffix = parse_bool(reader, wire, "treat_whitespace_as_suffix");
    } else if (field == trainer_field::kUnkSurface) {
      reader.expect_wire(wire, kLengthDelimited, "unk_surface");
      model.unk_surface = reader.string("unk_surface");
    } else {
      reader.skip(field, wire);
    }
  }
}

// Fills the normalizer settings; `has_charsmap` tells whether a non-empty
// precompiled_charsmap (a normalization other than identity) was present.
void parse_normalizer_spec(WireReader reader, SentencePieceModel& model, bool& has_charsmap) {
  while (!reader.at_end()) {
    const auto [field, wire] = reader.tag();
    if (field == normalizer_field::kName) {
      reader.expect_wire(wire, kLengthDelimited, "name");
      model.normalizer_name = reader.string("name");
    } else if (field == normalizer_field::kPrecompiledCharsmap) {
      reader.expect_wire(wire, kLengthDelimited, "precompiled_charsmap");
      has_charsmap = !reader.length_delimited("precompiled_charsmap").empty();
    } else if (field == normalizer_field::kAddDummyPrefix) {
      model.add_dummy_prefix = parse_bool(reader, wire, "add_dummy_prefix");
    } else if (field == normalizer_field::kRemoveExtraWhitespaces) {
      model.remove_extra_whitespaces = parse_bool(reader, wire, "remove_extra_whitespaces");
    } else if (field == normalizer_field::kEscapeWhitespaces) {
      model.escape_whitespaces = parse_bool(reader, wire, "escape_whitespaces");
    } else {
      reader.skip(field, wire);
    }
  }
}

}  // namespace

SentencePieceModel parse_sentencepiece_model(std::span<const uint8_t> bytes, const std::string& origin) {
  SentencePieceModel model;
  uint64_t model_type = 1;  // the proto's default: UNIGRAM
  bool has_charsmap = false, has_denormalizer_charsmap = false;
  WireReader reader(bytes, origin);
  while (!reader.at_end()) {
    const auto [field, wire] = reader.tag();
    // A repeated embedded message appears once per element; a singular one
    // that appears twice is merged, as protobuf does, by parsing both into
    // the same settings.
    if (field == model_field::kPieces) {
      reader.expect_wire(wire, kLengthDelimited, "pieces");
      const std::string where = origin + ": pieces[" + std::to_string(model.pieces.size()) + "]";
      model.pieces.push_back(parse_piece(WireReader(reader.length_delimited("pieces"), where)));
    } else if (field == model_field::kTrainerSpec) {
      reader.expect_wire(wire, kLengthDelimited, "trainer_spec");
      parse_trainer_spec(WireReader(reader.length_delimited("trainer_spec"), origin + ": trainer_spec"), model,
                         model_type);
    } else if (field == model_field::kNormalizerSpec) {
      reader.expect_wire(wire, kLengthDelimited, "normalizer_spec");
      parse_normalizer_spec(WireReader(reader.length_delimited("normalizer_spec"), origin + ": normalizer_spec"),
                            model, has_charsmap);
    } else if (field == model_field::kDenormalizerSpec) {
      // Only its charsmap matters (decoding would apply it); its other
      // settings must not overwrite the normalizer's.
      reader.expect_wire(wire, kLengthDelimited, "denormalizer_spec");
      SentencePieceModel ignored;
      parse_normalizer_spec(WireReader(reader.length_delimited("denormalizer_spec"), origin + ": denormalizer_spec"),
                            ignored, has_denormalizer_charsmap);
    } else {
      reader.skip(field, wire);
    }
  }
  TF_CHECK(model_type == kModelTypeBpe, origin << ": only BPE SentencePiece models are supported (trainer_spec."
                                               << "model_type is " << model_type_name(model_type) << ")");
  TF_CHECK(!has_charsmap, origin << ": normalizer_spec: the '" << model.normalizer_name
                                 << "' normalization (a precompiled_charsmap) is not supported, only identity");
  TF_CHECK(!has_denormalizer_charsmap,
           origin << ": denormalizer_spec: a precompiled_charsmap is not supported, only identity");
  TF_CHECK(!model.treat_whitespace_as_suffix,
           origin << ": trainer_spec: treat_whitespace_as_suffix is not supported");
  TF_CHECK(!model.pieces.empty(), origin << ": pieces: the model has no pieces");
  return model;
}

SentencePieceModel read_sentencepiece_model_file(const std::filesystem::path& path) {
  const auto file = io::MappedFile::open(path);
  return parse_sentencepiece_model(file->bytes(), path.string());
}

}  // namespace tformer::tokenizers
