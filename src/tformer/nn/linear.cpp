#include "tformer/nn/linear.h"

namespace tformer::nn {

Linear Linear::load(const io::WeightView& vb, int64_t in_features, int64_t out_features,
                    bool with_bias) {
  Linear l;
  l.weight_ = {vb.full_name("weight"), vb.get("weight", {out_features, in_features}), {}, true};
  if (with_bias) l.bias_ = {vb.full_name("bias"), vb.get("bias", {out_features}), {}, false};
  l.pack();
  return l;
}

Linear Linear::load_conv1d(const io::WeightView& vb, int64_t in_features, int64_t out_features) {
  Linear l;
  // A transposed view of the stored [in, out] weight: packing reads it as the
  // GEMM's B [K, N] where it lies (memory-mapped), with no transposed copy.
  const Tensor stored = vb.get("weight", {in_features, out_features});
  l.weight_ = {vb.full_name("weight"), stored.transpose(0, 1), {}, true};
  l.bias_ = {vb.full_name("bias"), vb.get("bias", {out_features}), {}, false};
  l.pack();
  return l;
}

Linear Linear::load_flattened(const io::WeightView& vb, const Shape& stored) {
  Linear l;
  const int64_t out = stored[0], in = stored.numel() / out;
  l.weight_ = {vb.full_name("weight"), vb.get("weight", stored).reshape({out, in}), {}, true};
  l.bias_ = {vb.full_name("bias"), vb.get("bias", {out}), {}, false};
  l.pack();
  return l;
}

void Linear::pack(kernels::GemmFormat format) {
  // [out, in] row-major is op(B) = Wᵀ; a Conv1D's transposed view is B itself.
  const bool conv1d_view = !weight_.value.is_contiguous();
  packed_ = kernels::PackedB::pack(weight_.value.data<float>(), conv1d_view ? out_features() : in_features(),
                                   /*trans_b=*/!conv1d_view, in_features(), out_features(), active_isa(), format);
}

void Linear::set_weight_format(kernels::GemmFormat format) {
  const bool training = weight_.grad.defined();
  TF_CHECK(!training || format != kernels::GemmFormat::INT8,
           "'" << weight_.name << "': int8 is for inference; training computes in fp32 or bf16");
  format_ = format;
  if (!training) pack(format);
}

Linear Linear::fuse_outputs(std::initializer_list<Linear*> parts) {
  const Linear& first = **parts.begin();
  const int64_t in = first.in_features();
  const bool with_bias = first.bias_.value.defined();
  int64_t out = 0;
  for (const Linear* p : parts) {
    TF_CHECK(p->in_features() == in && p->bias_.value.defined() == with_bias,
             "fuse_outputs: '" << p->weight_.name << "' differs in input size or bias from '"
                               << first.weight_.name << "'");
    out += p->out_features();
  }
  Linear fused;
  fused.weight_ = {"(fused)", Tensor::empty({out, in}), {}, true};
  if (with_bias) fused.bias_ = {"(fused)", Tensor::empty({out}), {}, false};
  int64_t row = 0;
  for (Linear* p : parts) {
    const int64_t o = p->out_features();
    Tensor w = fused.weight_.value.narrow(0, row, o);
    w.copy_from(p->weight_.value);
    p->weight_.value = w;
    p->packed_ = {};  // the parts keep their names; the fused Linear computes
    if (with_bias) {
      Tensor b = fused.bias_.value.narrow(0, row, o);
      b.copy_from(p->bias_.value);
      p->bias_.value = b;
    }
    row += o;
  }
  fused.pack();
  return fused;
}

void Linear::forward(const float* x, int64_t rows, float* y,
                     std::optional<kernels::Activation> activation) const {
  const float* bias = bias_.value.defined() ? bias_.value.data<float>() : nullptr;
  if (!packed_.empty())
    kernels::linear(x, rows, packed_, bias, y, activation);
  else
    kernels::linear(x, rows, in_features(), weight_.value.data<float>(), bias, out_features(), y, activation,
                    format_);
}

void Linear::forward_add(const float* x, int64_t rows, float* y) const {
  kernels::GemmArgs g;
  g.m = rows;
  g.a = x;
  g.lda = in_features();
  g.c = y;
  g.ldc = out_features();
  g.beta = 1.0f;
  g.bias = bias_.value.defined() ? bias_.value.data<float>() : nullptr;
  if (!packed_.empty()) return kernels::gemm(g, packed_);
  g.trans_b = true;
  g.n = out_features();
  g.k = in_features();
  g.b = weight_.value.data<float>();
  g.ldb = in_features();
  g.format = format_;
  kernels::gemm(g);
}

int64_t Linear::weight_bytes() const {
  // A bf16 weight stays fp32 where the CPU lacks AVX512-BF16 (gemm.h).
  const kernels::GemmFormat stored = packed_.empty() ? format_ : packed_.format();
  const int64_t bytes_per_weight = stored == kernels::GemmFormat::F32 ? 4 : stored == kernels::GemmFormat::BF16 ? 2 : 1;
  return in_features() * out_features() * bytes_per_weight;
}

kernels::LinearBackwardArgs Linear::backward_args(const float* x, int64_t x_stride, int64_t rows, const float* dy,
                                                  float* dx, int64_t dx_stride) {
  kernels::LinearBackwardArgs a;
  a.m = rows;
  a.k = in_features();
  a.n = out_features();
  a.x = x;
  a.x_stride = x_stride;
  a.weight = weight_.value.data<float>();
  a.dy = dy;
  a.dx = dx;
  a.dx_stride = dx_stride;
  a.dweight = weight_.grad.defined() ? weight_.grad.data<float>() : nullptr;
  a.dbias = bias_.grad.defined() ? bias_.grad.data<float>() : nullptr;
  a.format = format_;
  return a;
}

void Linear::backward(const float* x, int64_t rows, const float* dy, float* dx) {
  kernels::linear_backward(backward_args(x, in_features(), rows, dy, dx, in_features()));
}

void Linear::backward_strided(const float* x, int64_t x_stride, int64_t rows, const float* dy,
                              float* dx, int64_t dx_stride) {
  kernels::LinearBackwardArgs a = backward_args(x, x_stride, rows, dy, dx, dx_stride);
  a.accumulate_dx = true;
  kernels::linear_backward(a);
}

void Linear::enable_grad() {
  TF_CHECK(format_ != kernels::GemmFormat::INT8,
           "'" << weight_.name << "': int8 weights are for inference; training computes in fp32 or bf16");
  packed_ = {};
  // Training's kernels read the weight [out, in] row-major.
  if (!weight_.value.is_contiguous()) weight_.value = weight_.value.contiguous();
  enable_parameter_grad(weight_);
  if (bias_.value.defined()) enable_parameter_grad(bias_);
}

void Linear::share_grad_rows(const Linear& fused, int64_t row) {
  weight_.grad = fused.weight_.grad.narrow(0, row, out_features());
  if (bias_.value.defined()) bias_.grad = fused.bias_.grad.narrow(0, row, out_features());
}

void Linear::parameters(ParameterList& out) {
  out.push_back(&weight_);
  if (bias_.value.defined()) out.push_back(&bias_);
}

}  // namespace tformer::nn
