// The Vision Transformer (Dosovitskiy et al., 2021) as Hugging Face's
// ViTModel and ViTForImageClassification, inference:
//
//   pixel_values [B, C, H, W] ─▶ ViTEmbeddings (patches ─▶ Conv2d-as-GEMM,
//       [CLS] first, + position embeddings, interpolated for other sizes)
//     ─▶ ViTLayer × N (pre-norm: h + attention(LN(h)), h + MLP(LN(h)))
//     ─▶ final LayerNorm ─▶ last_hidden_state [B, 1 + N, hidden]
//     ─▶ classifier on the [CLS] row ─▶ logits
//
// Weights load under Hugging Face's names (vit.encoder.layer.3.attention.
// attention.query.weight, ...); a bare ViTModel checkpoint (no "vit."
// prefix) loads too. A model owns its activation buffers: after the first
// forward of a given batch and size, a forward allocates nothing. Not
// re-entrant: one forward at a time per model.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tformer/core/tensor.h"
#include "tformer/io/checkpoint.h"
#include "tformer/kernels/activations.h"
#include "tformer/nn/encoder_block.h"
#include "tformer/nn/layer_norm.h"
#include "tformer/nn/linear.h"
#include "tformer/nn/patch_embedding.h"

namespace tformer::models {

// The encoder's fields of ViTConfig (ViTMAEConfig shares them).
struct ViTConfig {
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  kernels::Activation hidden_act = kernels::Activation::Gelu;
  float layer_norm_eps = 1e-12f;
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t num_channels = 3;
  bool qkv_bias = true;
  std::vector<std::string> id2label = {"LABEL_0", "LABEL_1"};
  std::string source = "config.json";  // for messages

  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
  int64_t num_labels() const { return static_cast<int64_t>(id2label.size()); }

  static ViTConfig from_json(const nlohmann::json& j, const std::string& source);
  static ViTConfig from_file(const std::filesystem::path& config_json);
};

// Blocks and a final LayerNorm: ViT's encoder, and ViT-MAE's decoder too.
struct ViTLayerStack {
  std::vector<nn::PreNormEncoderBlock> layers;
  nn::LayerNorm norm;

  // layers under `layers_vb` (.0, .1, ...), the norm at `norm_vb`.
  static ViTLayerStack load(const io::WeightView& layers_vb, const io::WeightView& norm_vb, int64_t count,
                            const nn::AttentionDims& dims, int64_t intermediate, kernels::Activation act,
                            float eps, bool qkv_bias);
  // hidden [batch·seq, width], updated in place and normalised.
  void forward(float* hidden, int64_t batch, int64_t seq, nn::EncoderBlockScratch& scratch) const;
  void set_weight_format(kernels::GemmFormat format);
};

class ViTEmbeddings {
 public:
  static ViTEmbeddings load(const io::WeightView& vb, const ViTConfig& cfg);
  // pixels [B, C, H, W] → out [B, 1 + N, hidden]. Without
  // interpolate_pos_encoding H and W must be the config's image_size.
  void forward(const Tensor& pixel_values, bool interpolate_pos_encoding, float* out) const;
  // The parts ViT-MAE takes apart: each patch's embedding plus its position,
  // [B, N, hidden], a view of a buffer kept until the next call (positions
  // as without interpolate_pos_encoding); and the [CLS] token plus its
  // position, [hidden].
  const float* embed_patches(const Tensor& pixel_values, bool interpolate_pos_encoding) const;
  const float* cls_with_position() const { return cls_row_.data<float>(); }
  void set_weight_format(kernels::GemmFormat format) { patch_embedding_.set_weight_format(format); }

 private:
  // The position embeddings for a grid of rows × cols patches: the stored
  // ones, or those interpolated as ViTEmbeddings.interpolate_pos_encoding does.
  const float* positions_for(int64_t rows, int64_t cols, int64_t height, int64_t width) const;

  int64_t hidden_ = 0;
  nn::PatchEmbedding patch_embedding_;
  Tensor cls_row_, position_embeddings_;
  mutable Tensor patches_, embedded_;  // the flattened patches and their embeddings
  mutable Tensor interpolated_;       // [1 + rows·cols, hidden] for the last grid asked
  mutable int64_t interpolated_rows_ = 0, interpolated_cols_ = 0;
};

class ViTModel {
 public:
  static ViTModel load(const io::WeightView& vb, const ViTConfig& cfg);
  // The encoder of any ViT checkpoint (ViTModel, ViTForImageClassification):
  // its pooler or classifier, if any, is not read.
  static ViTModel from_pretrained(const std::filesystem::path& dir);
  // last_hidden_state [B, 1 + N, hidden] after the final LayerNorm, a view of
  // a buffer the model keeps (valid until the next forward).
  Tensor forward(const Tensor& pixel_values, bool interpolate_pos_encoding = false) const;
  // The encoder's Linears compute in `format` (the patch embedding and the
  // classifier stay fp32, as BERT's embeddings and head do).
  void set_weight_format(kernels::GemmFormat format) { encoder_.set_weight_format(format); }
  const ViTConfig& config() const { return *cfg_; }

 private:
  std::shared_ptr<const ViTConfig> cfg_;
  ViTEmbeddings embeddings_;
  ViTLayerStack encoder_;
  mutable Tensor hidden_;
  mutable nn::EncoderBlockScratch scratch_;
};

class ViTForImageClassification {
 public:
  // A Hugging Face model directory: config.json and model.safetensors (or pytorch_model.bin).
  static ViTForImageClassification from_pretrained(const std::filesystem::path& dir);
  static ViTForImageClassification load(const io::Checkpoint& ckpt, const ViTConfig& cfg);

  // logits [B, num_labels], valid until the next forward; `last_hidden_state`
  // receives the encoder's output if given.
  Tensor forward(const Tensor& pixel_values, bool interpolate_pos_encoding = false,
                 Tensor* last_hidden_state = nullptr) const;
  void set_weight_format(kernels::GemmFormat format) { vit_.set_weight_format(format); }
  const ViTConfig& config() const { return vit_.config(); }
  const ViTModel& vit() const { return vit_; }

 private:
  ViTForImageClassification(ViTModel vit, nn::Linear classifier)
      : vit_(std::move(vit)), classifier_(std::move(classifier)) {}
  ViTModel vit_;
  nn::Linear classifier_;
  mutable Tensor cls_rows_, logits_;
};

}  // namespace tformer::models
