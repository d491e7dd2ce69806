#include "tformer/models/bert.h"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tformer/core/thread_pool.h"
#include "tformer/io/atomic_file.h"
#include "tformer/io/json_file.h"
#include "tformer/io/safetensors.h"
#include "tformer/kernels/attention.h"
#include "tformer/kernels/gemm.h"
#include "tformer/models/config_labels.h"
#include "tformer/nn/random_init.h"

namespace tformer::models {

// ---------------------------------------------------------------- config

namespace {
// Bounds no real BERT-family checkpoint comes near (the largest vocabularies
// hold ~250,000 tokens): a config past them is corrupt or hostile, and would
// otherwise size buffers from a number nobody checked.
constexpr int64_t kMaxVocabSize = int64_t(1) << 24;
constexpr int64_t kMaxHiddenSize = int64_t(1) << 16;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxIntermediateSize = int64_t(1) << 20;
constexpr int64_t kMaxPositions = int64_t(1) << 20;
constexpr int64_t kMaxTypeVocabSize = int64_t(1) << 16;

int64_t positive(const nlohmann::json& j, const char* name, int64_t fallback, int64_t max,
                 const std::string& source) {
  return io::json_int_field(j, name, 1, max, source).value_or(fallback);
}
}  // namespace

BertConfig BertConfig::from_json(const nlohmann::json& j, const std::string& source) {
  TF_CHECK(j.is_object(), source << ": expected a JSON object");
  BertConfig c;
  c.source = source;
  c.vocab_size = positive(j, "vocab_size", c.vocab_size, kMaxVocabSize, source);
  c.hidden_size = positive(j, "hidden_size", c.hidden_size, kMaxHiddenSize, source);
  c.num_hidden_layers = positive(j, "num_hidden_layers", c.num_hidden_layers, kMaxLayers, source);
  c.num_attention_heads = positive(j, "num_attention_heads", c.num_attention_heads, c.hidden_size, source);
  c.intermediate_size = positive(j, "intermediate_size", c.intermediate_size, kMaxIntermediateSize, source);
  c.max_position_embeddings =
      positive(j, "max_position_embeddings", c.max_position_embeddings, kMaxPositions, source);
  c.type_vocab_size = positive(j, "type_vocab_size", c.type_vocab_size, kMaxTypeVocabSize, source);
  c.layer_norm_eps = static_cast<float>(io::json_field<double>(j, "layer_norm_eps", c.layer_norm_eps, source));
  c.pad_token_id = static_cast<int32_t>(
      io::json_int_field(j, "pad_token_id", 0, c.vocab_size - 1, source).value_or(c.pad_token_id));
  c.hidden_dropout_prob =
      static_cast<float>(io::json_field<double>(j, "hidden_dropout_prob", c.hidden_dropout_prob, source));
  c.attention_probs_dropout_prob = static_cast<float>(
      io::json_field<double>(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, source));
  c.initializer_range =
      static_cast<float>(io::json_field<double>(j, "initializer_range", c.initializer_range, source));
  TF_CHECK(std::isfinite(c.layer_norm_eps) && c.layer_norm_eps >= 0,
           source << ": field 'layer_norm_eps' must be a finite non-negative number, found " << c.layer_norm_eps);
  TF_CHECK(std::isfinite(c.initializer_range) && c.initializer_range >= 0,
           source << ": field 'initializer_range' must be a finite non-negative number, found "
                  << c.initializer_range);
  TF_CHECK(c.hidden_dropout_prob >= 0 && c.hidden_dropout_prob < 1,
           source << ": field 'hidden_dropout_prob' must be in [0, 1), found " << c.hidden_dropout_prob);
  TF_CHECK(c.attention_probs_dropout_prob >= 0 && c.attention_probs_dropout_prob < 1,
           source << ": field 'attention_probs_dropout_prob' must be in [0, 1), found "
                  << c.attention_probs_dropout_prob);
  c.hidden_act_name = io::json_field<std::string>(j, "hidden_act", c.hidden_act_name, source);
  c.hidden_act = kernels::activation_from_name(c.hidden_act_name, source);
  TF_CHECK(c.hidden_size % c.num_attention_heads == 0,
           source << ": hidden_size " << c.hidden_size << " is not a multiple of num_attention_heads "
                  << c.num_attention_heads);
  const std::string pos = io::json_field<std::string>(j, "position_embedding_type", "absolute", source);
  TF_CHECK(pos == "absolute", source << ": position_embedding_type '" << pos
                                     << "' is not supported (only 'absolute')");

  c.id2label = read_id2label(j, source);
  return c;
}

BertConfig BertConfig::from_file(const std::filesystem::path& config_json) {
  return from_json(io::read_json_file(config_json), config_json.string());
}

nlohmann::json BertConfig::to_json() const {
  nlohmann::json id2label_json = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (size_t i = 0; i < id2label.size(); ++i) {
    id2label_json[std::to_string(i)] = id2label[i];
    label2id[id2label[i]] = i;
  }
  return {{"architectures", {"BertForSequenceClassification"}},
          {"model_type", "bert"},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"hidden_act", hidden_act_name},
          {"hidden_dropout_prob", hidden_dropout_prob},
          {"attention_probs_dropout_prob", attention_probs_dropout_prob},
          {"max_position_embeddings", max_position_embeddings},
          {"type_vocab_size", type_vocab_size},
          {"initializer_range", initializer_range},
          {"layer_norm_eps", layer_norm_eps},
          {"pad_token_id", pad_token_id},
          {"position_embedding_type", "absolute"},
          {"id2label", id2label_json},
          {"label2id", label2id}};
}

// ---------------------------------------------------------------- embeddings

BertEmbeddings BertEmbeddings::load(const io::WeightView& vb, const BertConfig& cfg) {
  BertEmbeddings e;
  const int64_t h = cfg.hidden_size;
  e.word_embeddings_ = nn::Embedding::load(vb.pp("word_embeddings"), cfg.vocab_size, h, "token id");
  e.position_embeddings_ =
      nn::Embedding::load(vb.pp("position_embeddings"), cfg.max_position_embeddings, h, "position");
  e.token_type_embeddings_ =
      nn::Embedding::load(vb.pp("token_type_embeddings"), cfg.type_vocab_size, h, "token type id");
  e.layer_norm_ = nn::LayerNorm::load(vb.pp("LayerNorm"), h, cfg.layer_norm_eps);
  return e;
}

void BertEmbeddings::forward(const BertInputs& in, float* out) const {
  sum_embeddings(in, out);
  layer_norm_.forward(out, nullptr, in.batch * in.seq, out);
}

void BertEmbeddings::sum_embeddings(const BertInputs& in, float* out) const {
  const int64_t h = word_embeddings_.dim();
  TF_CHECK(in.seq <= position_embeddings_.num_embeddings(),
           "a sequence of " << in.seq << " tokens exceeds max_position_embeddings "
                            << position_embeddings_.num_embeddings());
  for (int64_t b = 0; b < in.batch; ++b) {
    float* rows = out + b * in.seq * h;
    word_embeddings_.lookup(in.input_ids + b * in.seq, in.seq, rows, false);
    for (int64_t s = 0; s < in.seq; ++s) {
      const float* pos = position_embeddings_.row(s);
      const int32_t type = in.token_type_ids ? in.token_type_ids[b * in.seq + s] : 0;
      token_type_embeddings_.lookup(&type, 1, rows + s * h, true);
      for (int64_t i = 0; i < h; ++i) rows[s * h + i] += pos[i];
    }
  }
}

// ---------------------------------------------------------------- encoder layer

void BertActivations::reserve(int64_t tokens, int64_t batch, int64_t seq, const BertConfig& cfg) {
  ensure_capacity(hidden, tokens * cfg.hidden_size);
  ensure_capacity(qkv, tokens * 3 * cfg.hidden_size);
  ensure_capacity(context, tokens * cfg.hidden_size);
  ensure_capacity(projected, tokens * cfg.hidden_size);
  ensure_capacity(intermediate, tokens * cfg.intermediate_size);
  ensure_capacity(key_mask, batch * seq);
}

BertLayer BertLayer::load(const io::WeightView& vb, const BertConfig& cfg) {
  BertLayer l;
  l.cfg_ = &cfg;
  const int64_t h = cfg.hidden_size;
  const io::WeightView self = vb.pp("attention").pp("self");
  l.query_ = nn::Linear::load(self.pp("query"), h, h);
  l.key_ = nn::Linear::load(self.pp("key"), h, h);
  l.value_ = nn::Linear::load(self.pp("value"), h, h);
  l.qkv_ = nn::Linear::fuse_outputs({&l.query_, &l.key_, &l.value_});
  l.attention_output_ = nn::Linear::load(vb.pp("attention").pp("output").pp("dense"), h, h);
  l.attention_norm_ =
      nn::LayerNorm::load(vb.pp("attention").pp("output").pp("LayerNorm"), h, cfg.layer_norm_eps);
  l.intermediate_ = nn::Linear::load(vb.pp("intermediate").pp("dense"), h, cfg.intermediate_size);
  l.output_ = nn::Linear::load(vb.pp("output").pp("dense"), cfg.intermediate_size, h);
  l.output_norm_ = nn::LayerNorm::load(vb.pp("output").pp("LayerNorm"), h, cfg.layer_norm_eps);
  return l;
}

void BertLayer::forward(BertActivations& act, int64_t batch, int64_t seq, bool cls_only) const {
  const BertConfig& cfg = *cfg_;
  const int64_t tokens = batch * seq, h = cfg.hidden_size, d = cfg.head_dim();
  // Rows the layer computes past attention: every token, or each [CLS].
  const int64_t rows = cls_only ? batch : tokens;
  float* hidden = act.hidden.data<float>();
  float* qkv = act.qkv.data<float>();
  float* context = act.context.data<float>();
  float* projected = act.projected.data<float>();

  // Self-attention: one GEMM for Q, K and V, read in place as [batch, seq, 3, heads, d].
  // Keys and values always come from every token; with cls_only only the
  // [CLS] queries attend (Sq = 1).
  qkv_.forward(hidden, tokens, qkv);
  const int64_t row = 3 * h;
  kernels::HeadsView q{qkv, seq * row, d, row}, k{qkv + h, seq * row, d, row},
      v{qkv + 2 * h, seq * row, d, row}, out{context, (rows / batch) * h, d, h};
  kernels::AttentionMask mask;
  mask.data = act.key_mask.data<float>();
  mask.batch_stride = seq;
  kernels::AttentionShape shape{batch, cfg.num_attention_heads, rows / batch, seq, d};
  kernels::attention(shape, q, k, v, out, 1.0f / std::sqrt(static_cast<float>(d)), mask);

  // The [CLS] rows' residual, gathered to the front of hidden (row b from
  // row b·seq: each source lies at or after its destination, and after every
  // earlier destination, so copying in order is safe).
  if (cls_only)
    for (int64_t b = 1; b < batch; ++b) std::memcpy(hidden + b * h, hidden + b * seq * h, h * sizeof(float));

  // Add & Norm, then the feed-forward block and its Add & Norm.
  attention_output_.forward(context, rows, projected);
  attention_norm_.forward(projected, hidden, rows, hidden);
  float* inter = act.intermediate.data<float>();
  intermediate_.forward(hidden, rows, inter, cfg.hidden_act);
  output_.forward(inter, rows, projected);
  output_norm_.forward(projected, hidden, rows, hidden);
}

void BertLayer::set_weight_format(kernels::GemmFormat format) {
  for (nn::Linear* l : {&qkv_, &attention_output_, &intermediate_, &output_}) l->set_weight_format(format);
}

void BertModel::set_weight_format(kernels::GemmFormat format) {
  for (BertLayer& l : layers_) l.set_weight_format(format);
}

// ---------------------------------------------------------------- pooler

BertPooler BertPooler::load(const io::WeightView& vb, const BertConfig& cfg) {
  BertPooler p;
  p.dense_ = nn::Linear::load(vb.pp("dense"), cfg.hidden_size, cfg.hidden_size);
  return p;
}

void BertPooler::forward(const float* hidden, int64_t batch, int64_t seq, float* out) const {
  const int64_t h = dense_.out_features();
  // The [CLS] rows are `seq` rows apart: read them in place through lda.
  kernels::GemmArgs g;
  g.trans_b = true;
  g.m = batch;
  g.n = h;
  g.k = h;
  g.a = hidden;
  g.lda = seq * h;
  g.b = dense_.weight().data<float>();
  g.ldb = h;
  g.c = out;
  g.ldc = h;
  g.bias = dense_.bias().data<float>();
  g.activation = kernels::Activation::Tanh;
  kernels::gemm(g);
}

// ---------------------------------------------------------------- model

BertModel BertModel::load(const io::WeightView& vb, const BertConfig& cfg) {
  BertModel m;
  m.cfg_ = std::make_shared<const BertConfig>(cfg);
  m.embeddings_ = BertEmbeddings::load(vb.pp("embeddings"), *m.cfg_);
  const io::WeightView layers = vb.pp("encoder").pp("layer");
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i)
    m.layers_.push_back(BertLayer::load(layers.pp(static_cast<int>(i)), *m.cfg_));
  m.pooler_ = BertPooler::load(vb.pp("pooler"), *m.cfg_);
  return m;
}

BertOutput BertModel::forward(const BertInputs& in, bool cls_only) const {
  TF_CHECK(in.batch > 0 && in.seq > 0 && in.input_ids,
           "BERT forward: empty batch (" << in.batch << " × " << in.seq << ")");
  const BertConfig& cfg = *cfg_;
  const int64_t tokens = in.batch * in.seq, h = cfg.hidden_size;
  act_.reserve(tokens, in.batch, in.seq, cfg);
  float* key_mask = act_.key_mask.data<float>();
  for (int64_t i = 0; i < tokens; ++i)
    key_mask[i] = in.attention_mask ? static_cast<float>(in.attention_mask[i] != 0) : 1.0f;

  embeddings_.forward(in, act_.hidden.data<float>());
  const size_t full_layers = cls_only ? layers_.size() - 1 : layers_.size();
  for (size_t l = 0; l < full_layers; ++l) layers_[l].forward(act_, in.batch, in.seq);
  if (cls_only) layers_.back().forward(act_, in.batch, in.seq, /*cls_only=*/true);
  const int64_t out_seq = cls_only ? 1 : in.seq;

  ensure_capacity(pooled_, in.batch * h);
  pooler_.forward(act_.hidden.data<float>(), in.batch, out_seq, pooled_.data<float>());
  BertOutput out;
  out.last_hidden_state = act_.hidden.narrow(0, 0, in.batch * out_seq * h).reshape({in.batch, out_seq, h});
  out.pooler_output = pooled_.narrow(0, 0, in.batch * h).reshape({in.batch, h});
  return out;
}

namespace {
BertForSequenceClassification build(const io::WeightSource& source, const BertConfig& cfg) {
  io::WeightView root(source);
  return BertForSequenceClassification(BertModel::load(root.pp("bert"), cfg),
                                       nn::Linear::load(root.pp("classifier"), cfg.hidden_size,
                                                        cfg.num_labels()));
}
}  // namespace

BertForSequenceClassification BertForSequenceClassification::from_config(const BertConfig& cfg,
                                                                          uint64_t seed) {
  nn::RandomInit init(seed, cfg.initializer_range,
                      {{"bert.embeddings.word_embeddings.weight", cfg.pad_token_id}});
  return build(init, cfg);
}

void BertForSequenceClassification::save_pretrained(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (nn::Parameter* p : parameters()) tensors.emplace_back(p->name, p->value);
  // transformers refuses safetensors whose metadata lacks format "pt".
  io::save_safetensors(dir / "model.safetensors", tensors, {{"format", "pt"}});
  io::write_file_atomically(dir / "config.json", config().to_json().dump(2) + "\n");
}

BertForSequenceClassification BertForSequenceClassification::load(const io::Checkpoint& ckpt,
                                                                   const BertConfig& cfg) {
  BertForSequenceClassification m = build(ckpt, cfg);
  // Pre-training heads and the position_ids buffer may ride along; anything
  // else unused means the checkpoint is not the model the config describes.
  ckpt.check_all_used({"cls.", "bert.embeddings.position_ids", "embeddings.position_ids"});
  return m;
}

BertForSequenceClassification BertForSequenceClassification::from_pretrained(
    const std::filesystem::path& dir) {
  BertConfig cfg = BertConfig::from_file(dir / "config.json");
  io::Checkpoint ckpt = io::Checkpoint::open(dir);
  ckpt.set_base_prefix("bert");
  return load(ckpt, cfg);
}

Tensor BertForSequenceClassification::forward(const BertInputs& in, BertOutput* hidden) const {
  BertOutput out = bert_.forward(in, /*cls_only=*/hidden == nullptr);
  const int64_t labels = config().num_labels();
  ensure_capacity(logits_, in.batch * labels);
  classifier_.forward(out.pooler_output.data<float>(), in.batch, logits_.data<float>());
  if (hidden) *hidden = out;
  return logits_.narrow(0, 0, in.batch * labels).reshape({in.batch, labels});
}

}  // namespace tformer::models
