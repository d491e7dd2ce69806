// Reads llama2.c's tokenizer.bin (see llama2c_tokenizer_file.h).
#include "tformer/tokenizers/llama2c_tokenizer_file.h"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "tformer/core/error.h"
#include "tformer/io/mapped_file.h"

namespace tformer::tokenizers {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // ▁
constexpr int32_t kFirstBytePiece = 3;                     // ids 3..258: <0x00>..<0xFF>
constexpr int32_t kReservedTokens = kFirstBytePiece + 256;

class LittleEndianReader {
 public:
  LittleEndianReader(std::span<const uint8_t> bytes, const std::string& origin) : bytes_(bytes), origin_(origin) {}

  size_t remaining() const { return bytes_.size() - pos_; }

  uint32_t u32(const std::string& field) {
    TF_CHECK(remaining() >= 4, origin_ << ": " << field << ": the file ends inside it (" << remaining()
                                       << " bytes left, 4 needed)");
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value |= uint32_t(bytes_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return value;
  }

  int32_t i32(const std::string& field) { return static_cast<int32_t>(u32(field)); }

  float f32(const std::string& field) {
    const uint32_t bits = u32(field);
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
  }

  std::string bytes(size_t n) {
    std::string out(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& origin_;
  size_t pos_ = 0;
};

std::string byte_piece_text(int byte) {
  char text[8];
  std::snprintf(text, sizeof text, "<0x%02X>", byte);
  return text;
}

// llama2.c's export wrote ▁ as a space; the tokenizer works on ▁.
std::string spaces_to_space_symbol(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ') {
      out.append(kSpaceSymbol);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

SentencePieceModel parse_llama2c_tokenizer(std::span<const uint8_t> bytes, const std::string& origin) {
  LittleEndianReader reader(bytes, origin);
  const int32_t max_token_length = reader.i32("max_token_length");
  TF_CHECK(max_token_length > 0, origin << ": max_token_length " << max_token_length << " is not positive");

  SentencePieceModel model;
  model.byte_fallback = true;
  model.normalizer_name = "identity";
  while (reader.remaining() > 0) {
    const int32_t id = static_cast<int32_t>(model.pieces.size());
    const std::string where = "token " + std::to_string(id);
    SentencePiece piece;
    piece.score = reader.f32(where + " score");
    TF_CHECK(!std::isnan(piece.score), origin << ": " << where << ": score is NaN");
    const int32_t length = reader.i32(where + " length");
    TF_CHECK(length > 0 && length <= max_token_length,
             origin << ": " << where << ": length " << length << " is outside [1, max_token_length "
                    << max_token_length << "]");
    TF_CHECK(static_cast<size_t>(length) <= reader.remaining(),
             origin << ": " << where << ": length " << length << " runs past the end of the file ("
                    << reader.remaining() << " bytes left)");
    const std::string text = reader.bytes(static_cast<size_t>(length));
    if (id == 0) {
      piece = {"<unk>", piece.score, PieceType::Unknown};
    } else if (id == 1 || id == 2) {
      piece = {id == 1 ? "<s>" : "</s>", piece.score, PieceType::Control};
    } else if (id < kReservedTokens) {
      const std::string expected = byte_piece_text(id - kFirstBytePiece);
      TF_CHECK(text == expected, origin << ": " << where << " is '" << text << "', expected the byte piece '"
                                        << expected << "' (llama2.c's ids 3..258 are the bytes 0x00..0xFF)");
      piece = {expected, piece.score, PieceType::Byte};
    } else {
      piece.text = spaces_to_space_symbol(text);
    }
    model.pieces.push_back(std::move(piece));
  }
  TF_CHECK(model.pieces.size() >= size_t(kReservedTokens),
           origin << ": the file holds " << model.pieces.size() << " tokens, fewer than the " << kReservedTokens
                  << " llama2.c reserves (<unk>, <s>, </s> and 256 byte pieces)");
  return model;
}

SentencePieceModel read_llama2c_tokenizer_file(const std::filesystem::path& path) {
  const auto file = io::MappedFile::open(path);
  return parse_llama2c_tokenizer(file->bytes(), path.string());
}

}  // namespace tformer::tokenizers
