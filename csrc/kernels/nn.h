// nn.h: softmax, log_softmax and the fused softmax cross-entropy on rows
// (Note [Row kernels] in kernel_table.h).
#pragma once

#include "core/tensor.h"

namespace pynn {

// x: a 2-D float view (rows, classes), any strides. A new (rows, classes) tensor.
Tensor nn_softmax_rows(const Tensor& x, bool log);

// logits: 2-D float (rows, classes). target: int labels (rows,) or
// probabilities of logits' shape. Sets *loss to the per-row cross-entropy and,
// when grad is not null, *grad to (softmax - target) * scale, in one pass.
void nn_softmax_xent(const Tensor& logits, const Tensor& target, double scale, Tensor* loss, Tensor* grad);

}  // namespace pynn
