// llama2.c's model files (Karpathy's llama2.c, export.py) as a weight
// source under Hugging Face's LlamaForCausalLM names, so that one Llama
// implementation runs both.
//
//   version 0 ("legacy"): 7 int32 (dim, hidden_dim, n_layers, n_heads,
//     n_kv_heads, vocab_size — negative when the classifier is not shared —,
//     seq_len), then fp32 token_embedding, rms_att, wq, wk, wv, wo, rms_ffn,
//     w1, w2, w3, rms_final, freq_cis_real, freq_cis_imag [, wcls]
//   version 1: uint32 magic "ak42", int32 version 1, the same 7 int32, a
//     uint8 shared_classifier, zeros to byte 256, then fp32 rms_att, rms_ffn,
//     rms_final, token_embedding, wq, wk, wv, wo, w1, w2, w3 [, wcls]
//
// Each layer's weights are stacked [n_layers, ...]; matrices are [out, in]
// as PyTorch's. llama2.c rotates Meta's interleaved pairs (2i, 2i + 1)
// where transformers rotates (i, i + D/2): wq and wk rows are permuted
// per head into transformers' order (HF row j·D/2 + i = llama2.c row 2i + j),
// as its convert_llama_weights_to_hf.py does. Everything else is a view of
// the memory-mapped file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tformer/io/mapped_file.h"
#include "tformer/io/weight_source.h"

namespace tformer::io {

struct Llama2cHeader {
  int version = 0;
  int64_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;
  int64_t head_dim() const { return dim / n_heads; }
};

// Whether `path` is a llama2.c model file: version 1's magic, or a version-0
// header whose sizes account for the file's length exactly.
bool is_llama2c_model_file(const std::filesystem::path& path);

class Llama2cCheckpoint : public WeightSource {
 public:
  // Throws tformer::Error naming the file and the field for a truncated file,
  // a header that does not add up to the file's length, or an unknown version.
  static Llama2cCheckpoint open(const std::filesystem::path& path);

  const Llama2cHeader& header() const { return header_; }
  bool contains(const std::string& name) const override;
  Tensor get_f32(const std::string& name, const Shape& expected) const override;
  std::string source() const override { return file_->path().string(); }
  std::vector<std::string> names() const;

 private:
  std::shared_ptr<MappedFile> file_;
  Llama2cHeader header_;
  std::map<std::string, Tensor> tensors_;
};

}  // namespace tformer::io
