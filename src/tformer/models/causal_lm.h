// A decoder-only language model (GPT-2, Llama) as generation sees it: ids
// in, next-token logits out, the past kept in a KV cache. Each architecture
// lives in its own file (gpt2.h, llama.h); load_causal_lm picks one from a
// Hugging Face directory's config.json model_type, or from a llama2.c file.
//
// A model owns its activation buffers: after the first step of a given
// size, a step allocates nothing. Not re-entrant: one forward at a time.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tformer/core/tensor.h"
#include "tformer/kernels/gemm.h"
#include "tformer/nn/causal_self_attention.h"
#include "tformer/nn/decoder_block.h"
#include "tformer/nn/kv_cache.h"
#include "tformer/nn/linear.h"

namespace tformer::models {

struct CausalLMInfo {
  std::string model_type;  // "gpt2", "llama"
  int64_t vocab_size = 0, max_positions = 0, num_layers = 0, kv_dim = 0;
  std::optional<int32_t> bos_token_id;
  // Tokens that end a text (llama2.c's models also end a story with BOS).
  std::vector<int32_t> eos_token_ids;
  std::string source;  // where it was loaded from, for messages
};

// The step's buffers: the residual stream, the blocks' scratch, the rows
// gathered for the logits.
struct DecoderBuffers {
  Tensor hidden, gathered;
  nn::DecoderBlockScratch blocks;
  void reserve(int64_t rows, int64_t hidden_size, const nn::AttentionDims& dims);
};

// The hidden rows logit_rows (all when null), gathered for the final norm.
const float* gather_hidden_rows(DecoderBuffers& buffers, int64_t hidden_size, const nn::DecodeStep& step,
                                const int64_t* logit_rows, int64_t n_logit_rows);

// What every decoder is built of past its embeddings: pre-norm blocks
// (nn/decoder_block.h), the final norm and the LM head, which computes the
// logits of the rows asked for only.
template <class Block, class Norm>
struct DecoderStack {
  std::vector<Block> blocks;
  Norm final_norm;
  nn::Linear lm_head;

  // buffers.hidden holds the step's embedded tokens; logits [n, vocab] as CausalLM::forward.
  void forward(DecoderBuffers& buffers, int64_t hidden_size, const nn::DecodeStep& step, nn::KVCache& cache,
               const int64_t* logit_rows, int64_t n_logit_rows, float* logits) const {
    float* hidden = buffers.hidden.template data<float>();
    for (size_t l = 0; l < blocks.size(); ++l)
      blocks[l].forward(hidden, step, cache, static_cast<int64_t>(l), buffers.blocks);
    const int64_t n = logit_rows ? n_logit_rows : step.rows();
    const float* last = gather_hidden_rows(buffers, hidden_size, step, logit_rows, n_logit_rows);
    float* normed = buffers.blocks.normed.template data<float>();
    final_norm.forward(last, n, normed);
    lm_head.forward(normed, n, logits);
  }
  void set_weight_format(kernels::GemmFormat format) {
    for (Block& b : blocks) b.set_weight_format(format);
    lm_head.set_weight_format(format);
  }
  int64_t weight_bytes() const {
    int64_t bytes = lm_head.weight_bytes();
    for (const Block& b : blocks) bytes += b.weight_bytes();
    return bytes;
  }
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;
  const CausalLMInfo& info() const { return info_; }

  // One step (nn::DecodeStep): ids [step.rows()], row b·tokens + t being
  // sequence b's t-th new token. Writes the step's keys and values into
  // `cache` (sized by reserve_cache) and the logits [n_logit_rows, vocab] of
  // the rows logit_rows[i] into `logits` (every row, in order, when
  // logit_rows is null: n_logit_rows = step.rows()).
  virtual void forward(const int32_t* ids, const nn::DecodeStep& step, nn::KVCache& cache,
                       const int64_t* logit_rows, int64_t n_logit_rows, float* logits) = 0;
  // Linears compute in `format` (bf16 or int8 weights); embeddings and norms stay fp32.
  virtual void set_weight_format(kernels::GemmFormat format) = 0;
  // Bytes of weights read to decode one token (every Linear and the LM head).
  virtual int64_t weight_bytes_per_token() const = 0;

  void reserve_cache(nn::KVCache& cache, int64_t batch, int64_t capacity) const {
    cache.reserve(info_.num_layers, batch, capacity, info_.kv_dim);
  }

 protected:
  // Checks a step's ids against the vocabulary and its positions against the model's.
  void check_step(const int32_t* ids, const nn::DecodeStep& step) const;
  CausalLMInfo info_;
};

// A Hugging Face directory (config.json model_type "gpt2" or "llama" and its
// weights), a llama2.c model file, or a directory holding one.
std::unique_ptr<CausalLM> load_causal_lm(const std::filesystem::path& path);
// Whether load_causal_lm would take `path` for a decoder (a BERT directory is not one).
bool is_causal_lm(const std::filesystem::path& path);

}  // namespace tformer::models
