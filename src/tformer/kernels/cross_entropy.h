// Softmax cross-entropy with mean reduction, as
// torch.nn.functional.cross_entropy(logits, labels, ignore_index=-100):
//   logits [rows, classes] row-major, labels [rows] int32
//   loss     = (1/count) Σ_{rows r kept} (logsumexp(logits[r]) − logits[r, labels[r]])
//   dlogits  = (softmax(logits[r]) − onehot(labels[r])) / count   for kept rows, 0 for ignored
// where a row is kept unless its label equals ignore_index, and count is the
// number of kept rows. With no kept rows the loss is NaN (torch's 0/0) and the
// gradient is zero.
//
// Rows are split over the thread pool; per-row losses are summed in double in
// row order, so the result does not depend on the thread count. dlogits may be
// null (loss only) or alias logits. A label outside [0, classes) that is not
// ignore_index is an Error, raised before anything is written.
#pragma once
#include <cstdint>

namespace tformer::kernels {

inline constexpr int32_t kIgnoreIndex = -100;

float cross_entropy(const float* logits, const int32_t* labels, int64_t rows, int64_t classes,
                    float* dlogits, int32_t ignore_index = kIgnoreIndex);

}  // namespace tformer::kernels
