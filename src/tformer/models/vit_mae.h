// ViT-MAE (He et al., 2022, "Masked Autoencoders Are Scalable Vision
// Learners") as Hugging Face's ViTMAEForPreTraining, inference:
//
//   pixel_values ─▶ patch embeddings + positions ─▶ random masking (keep the
//       patches with the smallest noise) ─▶ [CLS] + kept ─▶ ViT encoder
//     ─▶ decoder_embed ─▶ mask tokens appended, un-shuffled to patch order,
//       + decoder positions ─▶ ViT layers ─▶ norm ─▶ decoder_pred, [CLS] dropped
//     ─▶ logits [B, N, P·P·C]: every patch's pixels, painted back
//   loss: mean squared error on the masked patches, against the patchified
//   pixels (each patch normalised first with norm_pix_loss).
//
// The encoder and decoder are the same ViTLayerStack; the masking follows
// ViTMAEEmbeddings.random_masking exactly, so a given noise gives Hugging
// Face's mask and ids_restore.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tformer/core/tensor.h"
#include "tformer/io/checkpoint.h"
#include "tformer/models/vit.h"

namespace tformer::models {

struct ViTMAEConfig {
  ViTConfig encoder;
  int64_t decoder_hidden_size = 512;
  int64_t decoder_num_hidden_layers = 8;
  int64_t decoder_num_attention_heads = 16;
  int64_t decoder_intermediate_size = 2048;
  double mask_ratio = 0.75;
  bool norm_pix_loss = false;

  // Patches the encoder sees of `patches`: int(N · (1 − mask_ratio)), as Python truncates it.
  int64_t kept(int64_t patches) const {
    return static_cast<int64_t>(static_cast<double>(patches) * (1.0 - mask_ratio));
  }

  static ViTMAEConfig from_json(const nlohmann::json& j, const std::string& source);
  static ViTMAEConfig from_file(const std::filesystem::path& config_json);
};

// The outputs of a forward; views of buffers the model keeps (valid until the next forward).
struct ViTMAEOutput {
  Tensor logits;       // [B, N, P·P·C] predicted patches, in the loss target's space
  Tensor mask;         // [B, N] fp32, 1 = masked (hidden from the encoder)
  Tensor ids_restore;  // [B, N] int64: patch i of the image is slot ids_restore[i] of the shuffled sequence
  Tensor last_hidden_state;  // [B, 1 + kept, hidden]: the encoder's output
  float loss = 0.0f;
};

class ViTMAEForPreTraining {
 public:
  static ViTMAEForPreTraining from_pretrained(const std::filesystem::path& dir);
  static ViTMAEForPreTraining load(const io::Checkpoint& ckpt, const ViTMAEConfig& cfg);

  // pixel_values [B, C, image_size, image_size]; noise [B, N] fp32 (Hugging
  // Face's `noise=`: the patches with the smallest noise are kept).
  ViTMAEOutput forward(const Tensor& pixel_values, const Tensor& noise) const;
  // Uniform noise in [0, 1), [batch, N], from `seed` (tformer's generator, not torch's).
  Tensor random_noise(int64_t batch, uint64_t seed) const;

  // [B, C, H, W] ↔ [B, N, P·P·C] in ViT-MAE's patch order (row, column, channel).
  Tensor patchify(const Tensor& pixel_values) const;
  Tensor unpatchify(const Tensor& patches) const;

  void set_mask_ratio(double ratio);
  void set_weight_format(kernels::GemmFormat format);
  const ViTMAEConfig& config() const { return cfg_; }
  int64_t num_patches() const { return cfg_.encoder.num_patches(); }

 private:
  ViTMAEForPreTraining() = default;
  // Fills mask and ids_restore from noise, and keep_ids (per image, the kept
  // patches in shuffled order).
  void random_masking(const Tensor& noise, int64_t batch) const;
  float masked_loss(const Tensor& pixel_values, int64_t batch) const;

  ViTMAEConfig cfg_;
  ViTEmbeddings embeddings_;
  ViTLayerStack encoder_;
  nn::Linear decoder_embed_;
  Tensor mask_token_, decoder_positions_;  // [decoder_hidden], [1 + N, decoder_hidden]
  ViTLayerStack decoder_;
  nn::Linear decoder_pred_;
  mutable Tensor mask_, ids_restore_, keep_ids_, hidden_, decoder_in_, decoder_hidden_, logits_, target_;
  mutable nn::EncoderBlockScratch scratch_;
};

}  // namespace tformer::models
