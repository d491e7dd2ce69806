#include "tformer/io/llama2c.h"

#include <cstring>
#include <fstream>

#include "tformer/core/checked_size.h"
#include "tformer/core/error.h"

namespace tformer::io {

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMagicV1 = 0x32346b61;  // the bytes "ak42" read as a little-endian uint32
constexpr size_t kHeaderV1Bytes = 256, kHeaderV0Bytes = 7 * 4;

// Bounds far past any llama2.c model (Llama 2 70B: dim 8192, 80 layers,
// vocab 32000): a header beyond them is corrupt, not a model.
constexpr int64_t kMaxDim = int64_t(1) << 16, kMaxHidden = int64_t(1) << 20, kMaxLayers = 1024,
                  kMaxVocab = int64_t(1) << 24, kMaxSeqLen = int64_t(1) << 20;

int32_t read_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The 7 ints both versions share, checked: each in range and consistent.
Llama2cHeader parse_params(const uint8_t* p, int version, const std::string& where) {
  Llama2cHeader h;
  h.version = version;
  const int64_t raw_vocab = read_i32(p + 20);
  h.dim = read_i32(p);
  h.hidden_dim = read_i32(p + 4);
  h.n_layers = read_i32(p + 8);
  h.n_heads = read_i32(p + 12);
  h.n_kv_heads = read_i32(p + 16);
  h.vocab_size = raw_vocab < 0 ? -raw_vocab : raw_vocab;
  h.shared_classifier = raw_vocab > 0;
  h.seq_len = read_i32(p + 24);
  auto check = [&](const char* field, int64_t v, int64_t max) {
    TF_CHECK(v >= 1 && v <= max, where << ": header field '" << field << "' is " << v << ", expected 1 to " << max);
  };
  check("dim", h.dim, kMaxDim);
  check("hidden_dim", h.hidden_dim, kMaxHidden);
  check("n_layers", h.n_layers, kMaxLayers);
  check("n_heads", h.n_heads, h.dim);
  check("n_kv_heads", h.n_kv_heads, h.n_heads);
  check("vocab_size", h.vocab_size, kMaxVocab);
  check("seq_len", h.seq_len, kMaxSeqLen);
  TF_CHECK(h.dim % h.n_heads == 0 && h.head_dim() % 2 == 0,
           where << ": header field 'n_heads' (" << h.n_heads << ") must split dim " << h.dim
                 << " into heads of an even size");
  TF_CHECK(h.n_heads % h.n_kv_heads == 0, where << ": header field 'n_kv_heads' (" << h.n_kv_heads
                                                << ") must divide n_heads (" << h.n_heads << ")");
  return h;
}

struct Section {
  const char* name;
  std::vector<int64_t> shape;
};

// The tensors in file order, with llama2.c's names and shapes.
std::vector<Section> sections(const Llama2cHeader& h) {
  const int64_t L = h.n_layers, d = h.dim, f = h.hidden_dim, kv = h.n_kv_heads * h.head_dim();
  const Section tok{"token_embedding", {h.vocab_size, d}}, att{"rms_att", {L, d}}, ffn{"rms_ffn", {L, d}},
      fin{"rms_final", {d}}, wq{"wq", {L, d, d}}, wk{"wk", {L, kv, d}}, wv{"wv", {L, kv, d}}, wo{"wo", {L, d, d}},
      w1{"w1", {L, f, d}}, w2{"w2", {L, d, f}}, w3{"w3", {L, f, d}}, cls{"wcls", {h.vocab_size, d}};
  std::vector<Section> out;
  if (h.version == 0) {
    const Section freq_real{"freq_cis_real", {h.seq_len, h.head_dim() / 2}};
    const Section freq_imag{"freq_cis_imag", {h.seq_len, h.head_dim() / 2}};
    out = {tok, att, wq, wk, wv, wo, ffn, w1, w2, w3, fin, freq_real, freq_imag};
  } else {
    out = {att, ffn, fin, tok, wq, wk, wv, wo, w1, w2, w3};
  }
  if (!h.shared_classifier) out.push_back(cls);
  return out;
}

// Reads the header from the first bytes of a file (v1 if it has the magic).
Llama2cHeader parse_header(const uint8_t* data, size_t size, const std::string& where) {
  TF_CHECK(size >= kHeaderV0Bytes, where << ": " << size << " bytes is too short for a llama2.c header");
  uint32_t magic;
  std::memcpy(&magic, data, 4);
  if (magic != kMagicV1) return parse_params(data, 0, where);
  TF_CHECK(size >= kHeaderV1Bytes, where << ": truncated in its 256-byte version-1 header");
  const int32_t version = read_i32(data + 4);
  TF_CHECK(version == 1, where << ": llama2.c file version " << version
                               << " is not supported (versions 0 and 1 hold fp32 weights)");
  Llama2cHeader h = parse_params(data + 8, 1, where);
  const uint8_t shared = data[36];
  TF_CHECK(shared <= 1, where << ": header field 'shared_classifier' is " << int(shared) << ", expected 0 or 1");
  h.shared_classifier = shared == 1;
  return h;
}

// The file's length that the header implies, in bytes.
uint64_t expected_size(const Llama2cHeader& h, const std::string& where) {
  uint64_t floats = 0;
  for (const Section& s : sections(h)) {
    floats += static_cast<uint64_t>(checked_numel(s.shape, where));
    TF_CHECK(floats < (uint64_t(1) << 60), where << ": the header describes more weights than any file holds");
  }
  return (h.version == 0 ? kHeaderV0Bytes : kHeaderV1Bytes) + 4 * floats;
}

// wq / wk rows of each head from llama2.c's interleaved order into rotate_half's.
Tensor permute_for_rotate_half(const float* src, int64_t layers, int64_t heads, int64_t head_dim, int64_t in) {
  Tensor out = Tensor::empty({layers, heads * head_dim, in});
  float* dst = out.data<float>();
  const int64_t half = head_dim / 2;
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t i = 0; i < half; ++i) {
          const int64_t base = (l * heads + h) * head_dim;
          std::memcpy(dst + (base + j * half + i) * in, src + (base + 2 * i + j) * in, in * sizeof(float));
        }
  return out;
}

}  // namespace

bool is_llama2c_model_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec || size < kHeaderV0Bytes) return false;
  uint8_t head[kHeaderV1Bytes] = {};
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(head), static_cast<std::streamsize>(std::min<uintmax_t>(size, sizeof head)));
  uint32_t magic;
  std::memcpy(&magic, head, 4);
  if (magic == kMagicV1) return true;
  try {
    return expected_size(parse_params(head, 0, path.string()), path.string()) == size;
  } catch (const Error&) {
    return false;
  }
}

Llama2cCheckpoint Llama2cCheckpoint::open(const fs::path& path) {
  Llama2cCheckpoint c;
  const std::string where = path.string();
  c.file_ = MappedFile::open(path);
  c.header_ = parse_header(c.file_->data(), c.file_->size(), where);
  const Llama2cHeader& h = c.header_;
  const uint64_t expected = expected_size(h, where);
  TF_CHECK(c.file_->size() == expected, where << ": the header (dim " << h.dim << ", hidden_dim " << h.hidden_dim
                                              << ", " << h.n_layers << " layers, vocab " << h.vocab_size
                                              << ", seq_len " << h.seq_len << ") describes " << expected
                                              << " bytes, but the file has " << c.file_->size());

  // Each section as a view of the map, then split per layer under HF's names.
  std::map<std::string, Tensor> raw;
  size_t offset = h.version == 0 ? kHeaderV0Bytes : kHeaderV1Bytes;
  for (const Section& s : sections(h)) {
    const Shape shape(s.shape);
    raw[s.name] = Tensor::borrow(c.file_, c.file_->mutable_data() + offset, shape, DType::F32);
    offset += static_cast<size_t>(shape.numel()) * 4;
  }
  const int64_t kv_heads = h.n_kv_heads, hd = h.head_dim();
  raw["wq"] = permute_for_rotate_half(raw["wq"].data<float>(), h.n_layers, h.n_heads, hd, h.dim);
  raw["wk"] = permute_for_rotate_half(raw["wk"].data<float>(), h.n_layers, kv_heads, hd, h.dim);

  c.tensors_["model.embed_tokens.weight"] = raw["token_embedding"];
  c.tensors_["model.norm.weight"] = raw["rms_final"];
  if (!h.shared_classifier) c.tensors_["lm_head.weight"] = raw["wcls"];
  const std::pair<const char*, const char*> per_layer[] = {
      {"rms_att", "input_layernorm.weight"}, {"rms_ffn", "post_attention_layernorm.weight"},
      {"wq", "self_attn.q_proj.weight"},     {"wk", "self_attn.k_proj.weight"},
      {"wv", "self_attn.v_proj.weight"},     {"wo", "self_attn.o_proj.weight"},
      {"w1", "mlp.gate_proj.weight"},        {"w2", "mlp.down_proj.weight"},
      {"w3", "mlp.up_proj.weight"}};
  for (const auto& [from, to] : per_layer)
    for (int64_t l = 0; l < h.n_layers; ++l)
      c.tensors_["model.layers." + std::to_string(l) + "." + to] = raw[from].select(0, l);
  return c;
}

bool Llama2cCheckpoint::contains(const std::string& name) const { return tensors_.count(name) > 0; }

Tensor Llama2cCheckpoint::get_f32(const std::string& name, const Shape& expected) const {
  auto it = tensors_.find(name);
  TF_CHECK(it != tensors_.end(), source() << ": no tensor '" << name << "' in a llama2.c file");
  TF_CHECK(it->second.shape() == expected, source() << ": tensor '" << name << "' has shape "
                                                    << it->second.shape().str() << ", expected " << expected.str());
  return it->second;
}

std::vector<std::string> Llama2cCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

}  // namespace tformer::io
