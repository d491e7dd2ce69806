// The tokenizer of a generative model, whichever algorithm it runs: GPT-2's
// byte-level BPE (gpt2_tokenizer.h) or Llama's SentencePiece
// (sentencepiece_tokenizer.h). Generation, the CLI and the server see only
// this interface; every tokenizer returns the same Encoding and streams its
// output through the same StreamDecoder. Immutable after loading; safe to
// share between threads.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tformer/tokenizers/encoding.h"

namespace tformer::tokenizers {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // The model's tokenizer as transformers' tokenizer(text) gives it: tokens
  // and input_ids (Llama: BOS first), attention_mask all ones and
  // token_type_ids all zeros. Special tokens written in the text are the
  // special tokens, as in transformers. `text` must be valid UTF-8.
  virtual Encoding encode(std::string_view text, bool add_special_tokens = true) const = 0;
  // As transformers' tokenizer.decode(ids, skip_special_tokens). An id
  // outside the vocabulary is an Error naming it.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const = 0;
  // The bytes token `id` adds to running text when it follows other tokens
  // (SentencePiece: "▁" as a space, "<0x0A>" as the byte 0x0A; GPT-2: the
  // byte-level alphabet mapped back to bytes). A character may span several
  // tokens, so the bytes need not be valid UTF-8 alone: StreamDecoder joins them.
  virtual std::string token_bytes(int32_t id) const = 0;

  virtual size_t vocab_size() const = 0;
  virtual bool is_special_id(int32_t id) const = 0;
  virtual std::optional<int32_t> bos_token_id() const = 0;
  virtual std::optional<int32_t> eos_token_id() const = 0;
  // "byte-level BPE", "SentencePiece BPE", ...: for messages and reports.
  virtual std::string kind() const = 0;
};

// The tokenizer of a model: a Hugging Face directory's (GPT-2's vocab.json
// and merges.txt or a BPE tokenizer.json; Llama's tokenizer.model), or the
// one beside a llama2.c model file (tokenizer.model, or llama2.c's tok*.bin).
// Throws tformer::Error naming the directory when it holds none tformer reads.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_path);
// The same, or null when the files for neither are there (a BERT directory's).
std::unique_ptr<Tokenizer> find_tokenizer(const std::filesystem::path& model_path);

// Turns a stream of token byte strings into valid UTF-8 text as soon as each
// character is complete: a character split over several tokens is held back
// until its last byte arrives. A byte that cannot start or continue a
// character becomes U+FFFD on its own, as SentencePiece decodes it, and
// finish() turns an incomplete character left at the end into one U+FFFD per byte.
class StreamDecoder {
 public:
  // The text that became complete with `bytes` (possibly empty).
  std::string push(std::string_view bytes);
  // The rest of the stream: what an unfinished character held back, replaced.
  std::string finish();

 private:
  std::string pending_;  // the start of a character still incomplete (at most 3 bytes)
};

}  // namespace tformer::tokenizers
