// llama2.c's tokenizer.bin (tok512.bin, tokenizer.bin), as its export script
// writes it from a SentencePiece model: an int32 max_token_length, then per
// token a float32 score, an int32 byte length and the token's bytes, with
// spaces for ▁ and "\n<s>\n" / "\n</s>\n" for BOS and EOS. The file holds no
// settings and no token count (run.c takes it from the model): what llama2.c
// assumes is filled in, so that one SentencePiece BPE tokenizer serves both.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "tformer/tokenizers/sentencepiece_model.h"

namespace tformer::tokenizers {

// The model as llama2.c's run.c sees it: every token up to the end of the
// file, ids 0, 1, 2 = <unk>, <s>, </s>, ids 3..258 the byte pieces
// <0x00>..<0xFF> (byte fallback on), the rest normal pieces with ▁ for space;
// the normalizer as in Llama's tokenizer.model (identity, dummy prefix, extra
// whitespace removed). A truncated file, a negative or oversized length, or
// a table without those first 259 tokens is a tformer::Error naming `origin`
// and the token.
SentencePieceModel parse_llama2c_tokenizer(std::span<const uint8_t> bytes, const std::string& origin);
SentencePieceModel read_llama2c_tokenizer_file(const std::filesystem::path& path);

}  // namespace tformer::tokenizers
