#include "tformer/models/vit.h"

#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "tformer/io/json_file.h"
#include "tformer/kernels/bicubic.h"
#include "tformer/models/config_labels.h"

namespace tformer::models {

namespace {
// Far past any ViT (ViT-G: 1664 wide, 48 layers, 8192 inner; images of a
// few thousand pixels): a config beyond them is corrupt or hostile, and
// would size buffers unchecked.
constexpr int64_t kMaxWidth = int64_t(1) << 16, kMaxLayers = 1024, kMaxInner = int64_t(1) << 20,
                  kMaxImageSize = int64_t(1) << 15, kMaxChannels = 64;

io::WeightView vit_root(const io::WeightSource& weights) { return io::WeightView(weights).pp("vit"); }
}  // namespace

ViTConfig ViTConfig::from_json(const nlohmann::json& j, const std::string& source) {
  TF_CHECK(j.is_object(), source << ": expected a JSON object");
  ViTConfig c;
  c.source = source;
  auto positive = [&](const char* key, int64_t fallback, int64_t max) {
    return io::json_int_field(j, key, 1, max, source).value_or(fallback);
  };
  c.hidden_size = positive("hidden_size", c.hidden_size, kMaxWidth);
  c.num_hidden_layers = positive("num_hidden_layers", c.num_hidden_layers, kMaxLayers);
  c.num_attention_heads = positive("num_attention_heads", c.num_attention_heads, c.hidden_size);
  c.intermediate_size = positive("intermediate_size", c.intermediate_size, kMaxInner);
  c.image_size = positive("image_size", c.image_size, kMaxImageSize);
  c.patch_size = positive("patch_size", c.patch_size, c.image_size);
  c.num_channels = positive("num_channels", c.num_channels, kMaxChannels);
  c.hidden_act = kernels::activation_from_name(io::json_field<std::string>(j, "hidden_act", "gelu", source), source);
  c.layer_norm_eps = static_cast<float>(io::json_number_field(j, "layer_norm_eps", 1e-12, 0, 1, source));
  c.qkv_bias = io::json_field<bool>(j, "qkv_bias", true, source);
  TF_CHECK(c.hidden_size % c.num_attention_heads == 0,
           source << ": hidden_size " << c.hidden_size << " is not a multiple of num_attention_heads "
                  << c.num_attention_heads);
  c.id2label = read_id2label(j, source);
  return c;
}

ViTConfig ViTConfig::from_file(const std::filesystem::path& config_json) {
  return from_json(io::read_json_file(config_json), config_json.string());
}

// ---------------------------------------------------------------- layers

ViTLayerStack ViTLayerStack::load(const io::WeightView& layers_vb, const io::WeightView& norm_vb, int64_t count,
                                  const nn::AttentionDims& dims, int64_t intermediate, kernels::Activation act,
                                  float eps, bool qkv_bias) {
  ViTLayerStack s;
  for (int64_t i = 0; i < count; ++i) {
    const io::WeightView vb = layers_vb.pp(static_cast<int>(i));
    nn::PreNormEncoderBlock b;
    b.attention_norm = nn::LayerNorm::load(vb.pp("layernorm_before"), dims.hidden, eps);
    const io::WeightView attention = vb.pp("attention");
    b.attention =
        nn::SelfAttention::load(attention.pp("attention"), attention.pp("output").pp("dense"), dims, qkv_bias);
    b.mlp_norm = nn::LayerNorm::load(vb.pp("layernorm_after"), dims.hidden, eps);
    b.mlp = nn::Mlp::load(vb.pp("intermediate").pp("dense"), vb.pp("output").pp("dense"), dims.hidden, intermediate,
                          act);
    s.layers.push_back(std::move(b));
  }
  s.norm = nn::LayerNorm::load(norm_vb, dims.hidden, eps);
  return s;
}

void ViTLayerStack::forward(float* hidden, int64_t batch, int64_t seq, nn::EncoderBlockScratch& scratch) const {
  for (const nn::PreNormEncoderBlock& b : layers) b.forward(hidden, batch, seq, scratch);
  norm.forward(hidden, batch * seq, hidden);
}

void ViTLayerStack::set_weight_format(kernels::GemmFormat format) {
  for (nn::PreNormEncoderBlock& b : layers) b.set_weight_format(format);
}

// ---------------------------------------------------------------- embeddings

ViTEmbeddings ViTEmbeddings::load(const io::WeightView& vb, const ViTConfig& cfg) {
  ViTEmbeddings e;
  e.hidden_ = cfg.hidden_size;
  e.patch_embedding_ = nn::PatchEmbedding::load(vb.pp("patch_embeddings"), cfg.num_channels, cfg.patch_size,
                                                cfg.hidden_size);
  const int64_t h = cfg.hidden_size;
  const int64_t positions = cfg.num_patches() + 1;
  e.position_embeddings_ = vb.get("position_embeddings", {1, positions, h}).reshape({positions, h});
  // [CLS] always sits at position 0, whatever the grid.
  const Tensor cls = vb.get("cls_token", {1, 1, h});
  e.cls_row_ = Tensor::empty({h});
  for (int64_t c = 0; c < h; ++c)
    e.cls_row_.data<float>()[c] = cls.data<float>()[c] + e.position_embeddings_.data<float>()[c];
  return e;
}

const float* ViTEmbeddings::positions_for(int64_t rows, int64_t cols, int64_t height, int64_t width) const {
  const int64_t stored = position_embeddings_.dim(0) - 1, h = hidden_;
  // Hugging Face keeps the stored table when the patch count matches and the image is square.
  if (rows * cols == stored && height == width) return position_embeddings_.data<float>();
  if (rows == interpolated_rows_ && cols == interpolated_cols_) return interpolated_.data<float>();
  const auto side = static_cast<int64_t>(std::sqrt(static_cast<double>(stored)));
  TF_CHECK(side * side == stored, "interpolate_pos_encoding: the " << stored
                                                                   << " stored patch positions are not a square grid");
  // The grid [side, side, hidden] as `hidden` planes, resized by the scale
  // factors ((rows + 0.1) / side, (cols + 0.1) / side) that transformers
  // passes (the 0.1 keeps the output size from rounding down, DINO issue 8).
  const float* grid = position_embeddings_.data<float>() + h;
  std::vector<float> planes(static_cast<size_t>(h * stored)), resized(static_cast<size_t>(h * rows * cols));
  for (int64_t p = 0; p < stored; ++p)
    for (int64_t c = 0; c < h; ++c) planes[static_cast<size_t>(c * stored + p)] = grid[p * h + c];
  kernels::BicubicResize r{h, side, side, rows, cols, (static_cast<double>(rows) + 0.1) / static_cast<double>(side),
                           (static_cast<double>(cols) + 0.1) / static_cast<double>(side)};
  kernels::resize_bicubic(r, planes.data(), resized.data());
  interpolated_ = Tensor::empty({1 + rows * cols, h});
  float* out = interpolated_.data<float>();
  std::memcpy(out, position_embeddings_.data<float>(), h * sizeof(float));  // [CLS]'s own
  for (int64_t p = 0; p < rows * cols; ++p)
    for (int64_t c = 0; c < h; ++c) out[(1 + p) * h + c] = resized[static_cast<size_t>(c * rows * cols + p)];
  interpolated_rows_ = rows;
  interpolated_cols_ = cols;
  return out;
}

const float* ViTEmbeddings::embed_patches(const Tensor& pixel_values, bool interpolate_pos_encoding) const {
  TF_CHECK(pixel_values.ndim() == 4 && pixel_values.dtype() == DType::F32 && pixel_values.is_contiguous(),
           "ViT: pixel_values must be a contiguous fp32 [batch, channels, height, width] tensor, got "
               << pixel_values.shape().str());
  const kernels::PatchGrid grid = patch_embedding_.grid(pixel_values);
  const int64_t stored = position_embeddings_.dim(0) - 1;
  const auto side = static_cast<int64_t>(std::sqrt(static_cast<double>(stored)));
  TF_CHECK(interpolate_pos_encoding || (grid.height == side * grid.patch && grid.width == side * grid.patch),
           "ViT: input image size (" << grid.height << "*" << grid.width << ") doesn't match the model ("
                                     << side * grid.patch << "*" << side * grid.patch
                                     << "); pass interpolate_pos_encoding for other sizes");
  const int64_t n = grid.patches(), h = hidden_;
  ensure_capacity(embedded_, grid.batch * n * h);
  float* embedded = embedded_.data<float>();
  patch_embedding_.forward(pixel_values.data<float>(), grid, patches_, embedded);
  const float* pos = positions_for(grid.rows(), grid.cols(), grid.height, grid.width) + h;  // past [CLS]'s
  for (int64_t b = 0; b < grid.batch; ++b)
    for (int64_t i = 0; i < n * h; ++i) embedded[b * n * h + i] += pos[i];
  return embedded;
}

void ViTEmbeddings::forward(const Tensor& pixel_values, bool interpolate_pos_encoding, float* out) const {
  const float* patches = embed_patches(pixel_values, interpolate_pos_encoding);
  const int64_t batch = pixel_values.dim(0), h = hidden_, n = patch_embedding_.grid(pixel_values).patches();
  // Each image's rows: [CLS] first, then its patches.
  for (int64_t b = 0; b < batch; ++b) {
    float* rows = out + b * (1 + n) * h;
    std::memcpy(rows, cls_row_.data<float>(), h * sizeof(float));
    std::memcpy(rows + h, patches + b * n * h, n * h * sizeof(float));
  }
}

// ---------------------------------------------------------------- models

ViTModel ViTModel::load(const io::WeightView& vb, const ViTConfig& cfg) {
  ViTModel m;
  m.cfg_ = std::make_shared<ViTConfig>(cfg);
  m.embeddings_ = ViTEmbeddings::load(vb.pp("embeddings"), cfg);
  const nn::AttentionDims dims{cfg.hidden_size, cfg.num_attention_heads, cfg.num_attention_heads,
                               cfg.hidden_size / cfg.num_attention_heads};
  m.encoder_ = ViTLayerStack::load(vb.pp("encoder").pp("layer"), vb.pp("layernorm"), cfg.num_hidden_layers, dims,
                                   cfg.intermediate_size, cfg.hidden_act, cfg.layer_norm_eps, cfg.qkv_bias);
  return m;
}

ViTModel ViTModel::from_pretrained(const std::filesystem::path& dir) {
  const ViTConfig cfg = ViTConfig::from_file(dir / "config.json");
  io::Checkpoint ckpt = io::Checkpoint::open(dir);
  ckpt.set_base_prefix("vit");
  return load(vit_root(ckpt), cfg);
}

Tensor ViTModel::forward(const Tensor& pixel_values, bool interpolate_pos_encoding) const {
  TF_CHECK(pixel_values.ndim() == 4 && pixel_values.dim(0) > 0,
           "ViT: pixel_values must be [batch, channels, height, width] with a batch, got "
               << pixel_values.shape().str());
  const int64_t batch = pixel_values.dim(0), h = cfg_->hidden_size;
  const int64_t seq = 1 + (pixel_values.dim(2) / cfg_->patch_size) * (pixel_values.dim(3) / cfg_->patch_size);
  ensure_capacity(hidden_, batch * seq * h);
  embeddings_.forward(pixel_values, interpolate_pos_encoding, hidden_.data<float>());
  encoder_.forward(hidden_.data<float>(), batch, seq, scratch_);
  return hidden_.narrow(0, 0, batch * seq * h).reshape({batch, seq, h});
}

ViTForImageClassification ViTForImageClassification::load(const io::Checkpoint& ckpt, const ViTConfig& cfg) {
  ViTForImageClassification m(ViTModel::load(vit_root(ckpt), cfg),
                              nn::Linear::load(io::WeightView(ckpt).pp("classifier"), cfg.hidden_size,
                                               cfg.num_labels()));
  // A ViTModel's pooler may ride along (ViTForImageClassification has none).
  ckpt.check_all_used({"vit.pooler.", "pooler."});
  return m;
}

ViTForImageClassification ViTForImageClassification::from_pretrained(const std::filesystem::path& dir) {
  const ViTConfig cfg = ViTConfig::from_file(dir / "config.json");
  io::Checkpoint ckpt = io::Checkpoint::open(dir);
  ckpt.set_base_prefix("vit");
  return load(ckpt, cfg);
}

Tensor ViTForImageClassification::forward(const Tensor& pixel_values, bool interpolate_pos_encoding,
                                          Tensor* last_hidden_state) const {
  const Tensor hidden = vit_.forward(pixel_values, interpolate_pos_encoding);
  const int64_t batch = hidden.dim(0), seq = hidden.dim(1), h = hidden.dim(2), labels = config().num_labels();
  // The classifier reads each image's [CLS] row.
  ensure_capacity(cls_rows_, batch * h);
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(cls_rows_.data<float>() + b * h, hidden.data<float>() + b * seq * h, h * sizeof(float));
  ensure_capacity(logits_, batch * labels);
  classifier_.forward(cls_rows_.data<float>(), batch, logits_.data<float>());
  if (last_hidden_state) *last_hidden_state = hidden;
  return logits_.narrow(0, 0, batch * labels).reshape({batch, labels});
}

}  // namespace tformer::models
