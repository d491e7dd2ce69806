// Backward of scaled dot-product attention (attention.h), per (batch, head):
//   forward   S = scale · Q·Kᵀ (masked),  P = softmax(S),  P' = dropout(P),  O = P'·V
//   dV  = P'ᵀ · dO                            [Sk, D]
//   dP' = dO · Vᵀ                             [Sq, Sk]
//   dS  = P' ⊙ dP' − P · rowsum(P' ⊙ dP'), 0 where masked
//   dQ  = scale · dS · K                      [Sq, D]
//   dK  = scale · dSᵀ · Q                     [Sk, D]
// dS is softmax's backward P ⊙ (dP − rowsum(P ⊙ dP)) with dP = m·dP'/(1 − p)
// for keep mask m: since P' = m·P/(1 − p), P ⊙ dP = P' ⊙ dP', so the mask is
// never needed. Without dropout P' = P and this is the usual formula.
// q, k, v, mask and scale are what attention_train was given; probs and
// dropped_probs [B, H, Sq, Sk] what it wrote (dropped_probs = probs when it
// applied no dropout). dout, dq, dk and dv are HeadsViews in the same strided layout
// as the forward's tensors (so dq, dk, dv can be the thirds of a fused [B, S, 3·H·D]
// QKV gradient); dq, dk and dv are written, not accumulated.
//
// Masked scores are constants, so their gradient is zeroed explicitly; this
// matters only for a row masked entirely (its P is uniform, not 0), and there dV
// still gets its share as in the forward.
//
// Work is split over (b, h) pairs; each writes its own slices, so the result
// is the same for any thread count. Each thread keeps a private Sq × Sk buffer
// for dP/dS that only grows.
#pragma once
#include "tformer/kernels/attention.h"

namespace tformer::kernels {

void attention_backward(const AttentionShape& shape, const HeadsView& q, const HeadsView& k,
                        const HeadsView& v, const float* probs, const float* dropped_probs,
                        const HeadsView& dout,
                        const HeadsView& dq, const HeadsView& dk, const HeadsView& dv, float scale,
                        const AttentionMask& mask);

}  // namespace tformer::kernels
