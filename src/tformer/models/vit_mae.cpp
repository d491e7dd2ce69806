#include "tformer/models/vit_mae.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "tformer/io/json_file.h"
#include "tformer/kernels/patches.h"

namespace tformer::models {

namespace {
constexpr int64_t kMaxWidth = int64_t(1) << 16, kMaxLayers = 1024, kMaxInner = int64_t(1) << 20;

// The patch grid of images [B, C, H, W] for a model with patches of `patch`.
kernels::PatchGrid grid_of(const Tensor& images, int64_t patch) {
  return {images.dim(0), images.dim(1), images.dim(2), images.dim(3), patch};
}
}  // namespace

ViTMAEConfig ViTMAEConfig::from_json(const nlohmann::json& j, const std::string& source) {
  ViTMAEConfig c;
  c.encoder = ViTConfig::from_json(j, source);
  auto positive = [&](const char* key, int64_t fallback, int64_t max) {
    return io::json_int_field(j, key, 1, max, source).value_or(fallback);
  };
  c.decoder_hidden_size = positive("decoder_hidden_size", c.decoder_hidden_size, kMaxWidth);
  c.decoder_num_hidden_layers = positive("decoder_num_hidden_layers", c.decoder_num_hidden_layers, kMaxLayers);
  c.decoder_num_attention_heads =
      positive("decoder_num_attention_heads", c.decoder_num_attention_heads, c.decoder_hidden_size);
  c.decoder_intermediate_size = positive("decoder_intermediate_size", c.decoder_intermediate_size, kMaxInner);
  TF_CHECK(c.decoder_hidden_size % c.decoder_num_attention_heads == 0,
           source << ": decoder_hidden_size " << c.decoder_hidden_size
                  << " is not a multiple of decoder_num_attention_heads " << c.decoder_num_attention_heads);
  c.mask_ratio = io::json_number_field(j, "mask_ratio", c.mask_ratio, 0, 1, source);
  TF_CHECK(c.mask_ratio < 1, source << ": field 'mask_ratio' must be below 1 (some patches must stay visible)");
  c.norm_pix_loss = io::json_field<bool>(j, "norm_pix_loss", c.norm_pix_loss, source);
  return c;
}

ViTMAEConfig ViTMAEConfig::from_file(const std::filesystem::path& config_json) {
  return from_json(io::read_json_file(config_json), config_json.string());
}

ViTMAEForPreTraining ViTMAEForPreTraining::load(const io::Checkpoint& ckpt, const ViTMAEConfig& cfg) {
  ViTMAEForPreTraining m;
  m.cfg_ = cfg;
  const ViTConfig& e = cfg.encoder;
  const io::WeightView root(ckpt), vit = root.pp("vit"), dec = root.pp("decoder");
  m.embeddings_ = ViTEmbeddings::load(vit.pp("embeddings"), e);
  const nn::AttentionDims dims{e.hidden_size, e.num_attention_heads, e.num_attention_heads,
                               e.hidden_size / e.num_attention_heads};
  m.encoder_ = ViTLayerStack::load(vit.pp("encoder").pp("layer"), vit.pp("layernorm"), e.num_hidden_layers, dims,
                                   e.intermediate_size, e.hidden_act, e.layer_norm_eps, e.qkv_bias);
  const int64_t dh = cfg.decoder_hidden_size, n = e.num_patches();
  m.decoder_embed_ = nn::Linear::load(dec.pp("decoder_embed"), e.hidden_size, dh);
  m.mask_token_ = dec.get("mask_token", {1, 1, dh}).reshape({dh});
  m.decoder_positions_ = dec.get("decoder_pos_embed", {1, 1 + n, dh}).reshape({1 + n, dh});
  const nn::AttentionDims decoder_dims{dh, cfg.decoder_num_attention_heads, cfg.decoder_num_attention_heads,
                                       dh / cfg.decoder_num_attention_heads};
  m.decoder_ = ViTLayerStack::load(dec.pp("decoder_layers"), dec.pp("decoder_norm"), cfg.decoder_num_hidden_layers,
                                   decoder_dims, cfg.decoder_intermediate_size, e.hidden_act, e.layer_norm_eps,
                                   e.qkv_bias);
  m.decoder_pred_ = nn::Linear::load(dec.pp("decoder_pred"), dh, e.patch_size * e.patch_size * e.num_channels);
  ckpt.check_all_used({});
  return m;
}

ViTMAEForPreTraining ViTMAEForPreTraining::from_pretrained(const std::filesystem::path& dir) {
  const ViTMAEConfig cfg = ViTMAEConfig::from_file(dir / "config.json");
  return load(io::Checkpoint::open(dir), cfg);
}

void ViTMAEForPreTraining::set_mask_ratio(double ratio) {
  TF_CHECK(std::isfinite(ratio) && ratio >= 0 && ratio < 1, "mask ratio must be in [0, 1), got " << ratio);
  cfg_.mask_ratio = ratio;
}

void ViTMAEForPreTraining::set_weight_format(kernels::GemmFormat format) {
  encoder_.set_weight_format(format);
  decoder_.set_weight_format(format);
}

Tensor ViTMAEForPreTraining::random_noise(int64_t batch, uint64_t seed) const {
  const int64_t n = num_patches();
  Tensor noise = Tensor::empty({batch, n});
  std::mt19937_64 rng(seed);
  // 24 random bits a value: every float in [0, 1) on a 2^-24 grid, the same on every platform.
  for (int64_t i = 0; i < batch * n; ++i) noise.data<float>()[i] = static_cast<float>(rng() >> 40) * 0x1p-24f;
  return noise;
}

void ViTMAEForPreTraining::random_masking(const Tensor& noise, int64_t batch) const {
  const int64_t n = num_patches(), keep = cfg_.kept(n);
  TF_CHECK(noise.ndim() == 2 && noise.dim(0) == batch && noise.dim(1) == n && noise.dtype() == DType::F32,
           "ViT-MAE: noise must be fp32 [" << batch << ", " << n << "] (images × patches), got "
                                           << noise.shape().str());
  const Tensor values = noise.contiguous();
  const float* v = values.data<float>();
  for (int64_t i = 0; i < batch * n; ++i)
    TF_CHECK(std::isfinite(v[i]), "ViT-MAE: noise value " << i << " is not finite (" << v[i] << ")");
  ensure_capacity(mask_, batch * n);
  ensure_capacity(ids_restore_, batch * n, DType::I64);
  ensure_capacity(keep_ids_, batch * n, DType::I64);
  for (int64_t b = 0; b < batch; ++b) {
    // ids_shuffle = argsort(noise) (smallest first), ids_restore = argsort(ids_shuffle).
    int64_t* shuffle = keep_ids_.data<int64_t>() + b * n;
    int64_t* restore = ids_restore_.data<int64_t>() + b * n;
    std::iota(shuffle, shuffle + n, int64_t(0));
    // Ties go to the lower index, as a stable sort would (std::stable_sort allocates).
    const float* row = v + b * n;
    std::sort(shuffle, shuffle + n,
              [&](int64_t x, int64_t y) { return row[x] < row[y] || (row[x] == row[y] && x < y); });
    for (int64_t j = 0; j < n; ++j) restore[shuffle[j]] = j;
    for (int64_t i = 0; i < n; ++i) mask_.data<float>()[b * n + i] = restore[i] >= keep ? 1.0f : 0.0f;
  }
}

ViTMAEOutput ViTMAEForPreTraining::forward(const Tensor& pixel_values, const Tensor& noise) const {
  TF_CHECK(pixel_values.ndim() == 4 && pixel_values.dim(0) > 0,
           "ViT-MAE: pixel_values must be [batch, channels, height, width] with a batch, got "
               << pixel_values.shape().str());
  const ViTConfig& e = cfg_.encoder;
  const int64_t batch = pixel_values.dim(0), n = num_patches(), keep = cfg_.kept(n), h = e.hidden_size;
  const int64_t dh = cfg_.decoder_hidden_size, values = e.patch_size * e.patch_size * e.num_channels;
  random_masking(noise, batch);
  const float* patches = embeddings_.embed_patches(pixel_values, false);

  // The encoder sees [CLS] and each image's kept patches, in shuffled order.
  const int64_t seq = 1 + keep;
  ensure_capacity(hidden_, batch * seq * h);
  float* hidden = hidden_.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    float* rows = hidden + b * seq * h;
    std::memcpy(rows, embeddings_.cls_with_position(), h * sizeof(float));
    for (int64_t j = 0; j < keep; ++j)
      std::memcpy(rows + (1 + j) * h, patches + (b * n + keep_ids_.data<int64_t>()[b * n + j]) * h, h * sizeof(float));
  }
  encoder_.forward(hidden, batch, seq, scratch_);

  // The decoder: the encoded tokens, a mask token for each hidden patch, all
  // back in patch order ([CLS] first), plus the decoder's positions.
  ensure_capacity(decoder_in_, batch * seq * dh);
  decoder_embed_.forward(hidden, batch * seq, decoder_in_.data<float>());
  ensure_capacity(decoder_hidden_, batch * (1 + n) * dh);
  float* x = decoder_hidden_.data<float>();
  const float* pos = decoder_positions_.data<float>();
  for (int64_t b = 0; b < batch; ++b) {
    const float* encoded = decoder_in_.data<float>() + b * seq * dh;
    for (int64_t i = 0; i <= n; ++i) {
      // Row 0 is [CLS]; patch i's token is slot ids_restore[i] of the shuffled sequence.
      const int64_t slot = i == 0 ? -1 : ids_restore_.data<int64_t>()[b * n + i - 1];
      const float* token = slot < keep ? encoded + (1 + slot) * dh : mask_token_.data<float>();
      float* row = x + (b * (1 + n) + i) * dh;
      for (int64_t c = 0; c < dh; ++c) row[c] = token[c] + pos[i * dh + c];
    }
  }
  decoder_.forward(x, batch, 1 + n, scratch_);
  // Predictions for the patch rows ([CLS]'s is dropped).
  ensure_capacity(logits_, batch * n * values);
  for (int64_t b = 0; b < batch; ++b)
    decoder_pred_.forward(x + (b * (1 + n) + 1) * dh, n, logits_.data<float>() + b * n * values);

  ViTMAEOutput out;
  out.logits = logits_.narrow(0, 0, batch * n * values).reshape({batch, n, values});
  out.mask = mask_.narrow(0, 0, batch * n).reshape({batch, n});
  out.ids_restore = ids_restore_.narrow(0, 0, batch * n).reshape({batch, n});
  out.last_hidden_state = hidden_.narrow(0, 0, batch * seq * h).reshape({batch, seq, h});
  out.loss = masked_loss(pixel_values, batch);
  return out;
}

float ViTMAEForPreTraining::masked_loss(const Tensor& pixel_values, int64_t batch) const {
  const ViTConfig& e = cfg_.encoder;
  const int64_t n = num_patches(), values = e.patch_size * e.patch_size * e.num_channels;
  ensure_capacity(target_, batch * n * values);
  kernels::extract_patches(grid_of(pixel_values, e.patch_size), kernels::PatchOrder::PixelMajor,
                           pixel_values.data<float>(), target_.data<float>());
  const float* pred = logits_.data<float>();
  const float* mask = mask_.data<float>();
  double total = 0, masked = 0;
  for (int64_t p = 0; p < batch * n; ++p) {
    const float* t = target_.data<float>() + p * values;
    // norm_pix_loss: the target is the patch normalised by its mean and
    // unbiased variance (torch's var), + 1e-6 inside the root.
    float mean = 0, scale = 1;
    if (cfg_.norm_pix_loss) {
      double sum = 0, squares = 0;
      for (int64_t k = 0; k < values; ++k) sum += t[k];
      mean = static_cast<float>(sum / values);
      for (int64_t k = 0; k < values; ++k) squares += (t[k] - mean) * static_cast<double>(t[k] - mean);
      scale = 1.0f / std::sqrt(static_cast<float>(squares / (values - 1)) + 1e-6f);
    }
    double error = 0;
    for (int64_t k = 0; k < values; ++k) {
      const double d = pred[p * values + k] - (t[k] - mean) * scale;
      error += d * d;
    }
    total += error / values * mask[p];
    masked += mask[p];
  }
  return static_cast<float>(total / masked);
}

Tensor ViTMAEForPreTraining::patchify(const Tensor& pixel_values) const {
  const ViTConfig& e = cfg_.encoder;
  TF_CHECK(pixel_values.ndim() == 4 && pixel_values.dim(1) == e.num_channels &&
               pixel_values.dim(2) == pixel_values.dim(3) && pixel_values.dim(2) % e.patch_size == 0,
           "patchify: pixel_values must be [batch, " << e.num_channels << ", H, H] with H a multiple of the patch size "
                                                    << e.patch_size << ", got " << pixel_values.shape().str());
  const kernels::PatchGrid g = grid_of(pixel_values, e.patch_size);
  Tensor out = Tensor::empty({g.batch, g.patches(), g.patch_values()});
  kernels::extract_patches(g, kernels::PatchOrder::PixelMajor, pixel_values.contiguous().data<float>(),
                           out.data<float>());
  return out;
}

Tensor ViTMAEForPreTraining::unpatchify(const Tensor& patches) const {
  const ViTConfig& e = cfg_.encoder;
  const int64_t values = e.patch_size * e.patch_size * e.num_channels;
  const auto side = patches.ndim() == 3 ? static_cast<int64_t>(std::sqrt(static_cast<double>(patches.dim(1)))) : 0;
  TF_CHECK(patches.ndim() == 3 && patches.dim(2) == values && side > 0 && side * side == patches.dim(1),
           "unpatchify: patches must be [batch, a square number of patches, " << values << "], got "
                                                                              << patches.shape().str());
  const kernels::PatchGrid g{patches.dim(0), e.num_channels, side * e.patch_size, side * e.patch_size, e.patch_size};
  Tensor out = Tensor::empty({g.batch, g.channels, g.height, g.width});
  kernels::assemble_patches(g, kernels::PatchOrder::PixelMajor, patches.contiguous().data<float>(), out.data<float>());
  return out;
}

}  // namespace tformer::models
