#include "tformer/nn/seed_self_attention.h"

#include <cmath>

#include "tformer/kernels/attention.h"

namespace tformer::nn {

SeedSelfAttention SeedSelfAttention::load(const io::WeightView& vb, int64_t embed_size,
                                          int64_t heads) {
  TF_CHECK(heads > 0 && embed_size > 0 && embed_size % heads == 0,
           vb.source().source() << ": embed_size " << embed_size
                                    << " must be a positive multiple of heads " << heads);
  SeedSelfAttention a;
  a.embed_size_ = embed_size;
  a.heads_ = heads;
  a.head_dim_ = embed_size / heads;
  a.values_ = Linear::load(vb.pp("values"), a.head_dim_, a.head_dim_, false);
  a.keys_ = Linear::load(vb.pp("keys"), a.head_dim_, a.head_dim_, false);
  a.queries_ = Linear::load(vb.pp("queries"), a.head_dim_, a.head_dim_, false);
  a.fc_out_ = Linear::load(vb.pp("fc_out"), embed_size, embed_size, true);
  return a;
}

void SeedSelfAttention::set_weight_format(kernels::GemmFormat format) {
  for (Linear* l : {&values_, &keys_, &queries_, &fc_out_}) l->set_weight_format(format);
}

namespace {
// Applies a per-head projection to every head slice of x [N, L, E]: one GEMM
// over N·L·heads rows of head_dim.
Tensor project_heads(const Linear& proj, const Tensor& x, int64_t embed, const char* name) {
  TF_CHECK(x.ndim() == 3 && x.dim(2) == embed,
           "attention input '" << name << "': expected shape [N, L, " << embed << "], found "
                               << x.shape().str());
  Tensor in = x.to(DType::F32).contiguous();
  Tensor out = Tensor::empty(in.shape());
  const int64_t rows = in.numel() / proj.in_features();
  proj.forward(in.data<float>(), rows, out.data<float>());
  return out;
}

// The mask's stride along dimension `d` when broadcast to `size` (0 for a broadcast dim).
int64_t broadcast_stride(const Tensor& m, int d, int64_t size) {
  TF_CHECK(m.dim(d) == size || m.dim(d) == 1,
           "attention input 'mask': shape " << m.shape().str() << " does not broadcast at dim " << d
                                            << " to size " << size);
  return m.dim(d) == 1 ? 0 : m.stride(d);
}
}  // namespace

Tensor SeedSelfAttention::forward(const Tensor& values, const Tensor& keys, const Tensor& query,
                                  const Tensor& mask) const {
  const int64_t e = embed_size_;
  Tensor v = project_heads(values_, values, e, "values");
  Tensor k = project_heads(keys_, keys, e, "keys");
  Tensor q = project_heads(queries_, query, e, "query");
  const int64_t n = q.dim(0), lq = q.dim(1), lk = k.dim(1);
  TF_CHECK(k.dim(0) == n && v.dim(0) == n && v.dim(1) == lk,
           "attention inputs: values " << v.shape().str() << ", keys " << k.shape().str()
                                       << " and query " << q.shape().str() << " disagree");

  kernels::AttentionMask am;
  Tensor m;
  if (mask.defined()) {
    TF_CHECK(mask.ndim() == 4 && mask.dim(3) == lk,
             "attention input 'mask': expected [N, 1|heads, 1|Lq, Lk=" << lk << "], found "
                                                                       << mask.shape().str());
    m = mask.to(DType::F32).contiguous();
    am.data = m.data<float>();
    am.batch_stride = broadcast_stride(m, 0, n);
    am.head_stride = broadcast_stride(m, 1, heads_);
    am.query_stride = broadcast_stride(m, 2, lq);
  }
  const float sqrt_e = std::sqrt(static_cast<float>(e));
  am.fill = -1e20f / sqrt_e;  // the seed fills -1e20 and scales afterwards

  Tensor ctx = Tensor::empty({n, lq, e});
  auto heads_view = [&](const Tensor& t, int64_t len) {
    return kernels::HeadsView{t.data<float>(), len * e, head_dim_, e};
  };
  kernels::AttentionShape shape{n, heads_, lq, lk, head_dim_};
  kernels::attention(shape, heads_view(q, lq), heads_view(k, lk), heads_view(v, lk),
                     heads_view(ctx, lq), 1.0f / sqrt_e, am);

  Tensor out = Tensor::empty({n, lq, e});
  fc_out_.forward(ctx.data<float>(), n * lq, out.data<float>());
  return out;
}

}  // namespace tformer::nn
