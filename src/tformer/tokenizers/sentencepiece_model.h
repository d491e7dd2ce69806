// A SentencePiece model as the tokenizer needs it: the piece table (text,
// score, type) and the trainer and normalizer settings that change how text
// is encoded and decoded. Read from a tokenizer.model (a protobuf ModelProto,
// parsed here without libprotobuf) or from llama2.c's tokenizer.bin
// (llama2c_tokenizer_file.h). Only what reading found is checked here; the
// tokenizer checks that the table makes sense (one <unk>, every byte piece).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tformer::tokenizers {

// sentencepiece_model.proto's ModelProto.SentencePiece.Type, same values.
enum class PieceType : uint8_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };

struct SentencePiece {
  std::string text;  // "▁the", "<0x0A>", "<s>"
  float score = 0;
  PieceType type = PieceType::Normal;
};

struct SentencePieceModel {
  std::vector<SentencePiece> pieces;  // index = token id

  // TrainerSpec (model_type must be BPE: reading refuses anything else).
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  std::string unk_surface = " \xE2\x81\x87 ";  // what decoding <unk> gives: " ⁇ "

  // NormalizerSpec. Only the identity normalization is supported: a
  // precompiled_charsmap (nmt_nfkc and its kin) is refused when reading.
  std::string normalizer_name;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Parses a serialized ModelProto. Every length is checked against the bytes
// left, unknown fields of every wire type are skipped, and anything wrong is a
// tformer::Error "<origin>: <field>: <reason>".
SentencePieceModel parse_sentencepiece_model(std::span<const uint8_t> bytes, const std::string& origin);
SentencePieceModel read_sentencepiece_model_file(const std::filesystem::path& path);

}  // namespace tformer::tokenizers
