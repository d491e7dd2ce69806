#include "tformer/kernels/linear_backward.h"

#include "tformer/core/error.h"
#include "tformer/kernels/column_reduce.h"
#include "tformer/kernels/gemm.h"

namespace tformer::kernels {

void linear_backward(const LinearBackwardArgs& a) {
  TF_CHECK(a.x_stride >= a.k && (!a.dx || a.dx_stride >= a.k),
           "linear_backward: row strides x " << a.x_stride << ", dx " << a.dx_stride
                                             << " are shorter than a row of " << a.k);
  if (a.dx) {
    GemmArgs g;  // dx[M,K] (+)= dy[M,N] · W[N,K]
    g.m = a.m;
    g.n = a.k;
    g.k = a.n;
    g.a = a.dy;
    g.lda = a.n;
    g.b = a.weight;
    g.ldb = a.k;
    g.beta = a.accumulate_dx ? 1.0f : 0.0f;
    g.c = a.dx;
    g.ldc = a.dx_stride;
    g.format = a.format;
    gemm(g);
  }
  if (a.dweight) {
    GemmArgs g;  // dW[N,K] += dyᵀ[N,M] · x[M,K]
    g.trans_a = true;
    g.m = a.n;
    g.n = a.k;
    g.k = a.m;
    g.a = a.dy;
    g.lda = a.n;
    g.b = a.x;
    g.ldb = a.x_stride;
    g.beta = 1.0f;
    g.c = a.dweight;
    g.ldc = a.k;
    g.format = a.format;
    gemm(g);
  }
  if (a.dbias) add_column_sums(a.dy, a.n, a.m, a.n, a.dbias);
}

void linear_backward(const float* x, int64_t m, int64_t k, const float* weight, int64_t n,
                     const float* dy, float* dx, float* dweight, float* dbias) {
  LinearBackwardArgs a;
  a.m = m;
  a.k = k;
  a.n = n;
  a.x = x;
  a.x_stride = k;
  a.weight = weight;
  a.dy = dy;
  a.dx = dx;
  a.dx_stride = k;
  a.dweight = dweight;
  a.dbias = dbias;
  linear_backward(a);
}

}  // namespace tformer::kernels
