// nn.h: softmax, log_softmax and the fused softmax cross-entropy on rows
// (Note [Row kernels] in kernel_table.h).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernel_table.h"

namespace pynn {

// x: a 2-D float view (rows, classes), any strides. A new (rows, classes) tensor.
Tensor nn_softmax_rows(const Tensor& x, bool log);

// logits: 2-D float (rows, classes). target: int labels (rows,) or
// probabilities of logits' shape. Sets *loss to the per-row cross-entropy and,
// when grad is not null, *grad to (softmax - target) * scale, in one pass.
void nn_softmax_xent(const Tensor& logits, const Tensor& target, double scale, Tensor* loss, Tensor* grad);

// Note [Dense layer]
// y = act(x @ W + b) as one graph node. Forward: the GEMM writes x @ W and its
// epilogue (Note [GEMM epilogue]) adds the bias and applies the activation to
// each finished block of y while it is still in cache. Backward: the activation's
// derivative is folded into the incoming gradient in one pass (relu_grad,
// sigmoid_grad, tanh_grad take dy and y), then dW = x^T dz and dx = dz W^T
// are GEMMs on transposed views (no copies) and db sums dz over the batch.
// dx is skipped when the tape does not need it (a network's input).
// The enum below is the set whose derivatives come from y (they fold into the
// GEMM epilogues); any other registry activation (Note [Activation registry]) takes
// nn_dense_act, which keeps the pre-activation for its derivative.
enum class Activation : int { linear, relu, sigmoid, tanh, softmax };

Tensor nn_dense(const Tensor& x, const Tensor& w, const Tensor* b, Activation act);

// The forward into the 2-D view y (rows, units; unit column stride): the
// GEMM with the bias and an activation other than softmax in its epilogue; b
// contiguous or null; no checks (nn_dense checks). zero_columns: drop x's zero
// columns when it pays (Note [Zero input columns]); convolutions pass false,
// their patches seldom have any.
void nn_dense_into(const Tensor& x, const Tensor& w, const Tensor* b, Activation act, const Tensor& y,
                   bool zero_columns = true);

// The element-wise op of relu, sigmoid or tanh, and its derivative from the output.
UnaryOp nn_activation_op(Activation act);
BinaryOp nn_activation_grad_op(Activation act);

// Note [Zero input columns]
// A batch of images has whole columns of zeros: in a shuffled MNIST batch of
// 128, about 257 of the 784 pixels are 0 in every image. Such a column adds
// exact zeros to x @ W, so the forward drops it, with W's row, when at least
// an eighth of x's columns go (the scan, the copy of the kept columns of x and
// rows of W cost a fraction of the third of the GEMM they save). A column
// stays when its row of W holds an inf or NaN: 0 * inf is NaN, and NaN must
// reach the output as it would through x @ W. The sum is then x @ W over
// fewer terms: the same up to where the GEMM cuts k into blocks (rounding).
// The backward drops the same columns from dW = x^T dz (it scans x again): a
// dropped column's row of dW is exactly 0 when dz is finite, and the kept
// rows come out as in the full product (their k is the batch, unchanged).

// Class labels (a 1-D int64 tensor) in [0, classes), else a ValueError that
// names op and the range found.
void nn_check_labels(const char* op, const Tensor& labels, int64_t classes);

void nn_dense_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y, Activation act,
                       bool need_dx, bool need_db, Tensor* dx, Tensor* dw, Tensor* db);

// A registry activation (Note [Activation registry]) over any float tensor,
// h its kActParams scalars: y = act(x), and dx = dy * act'(x) given y
// (order 2: dy * act''(x)). Integer and bool inputs compute in float as exp
// does (NumPy's rule).
Tensor nn_activation(ActOp op, const Tensor& x, const double* h);
Tensor nn_activation_grad(ActOp op, const Tensor& dy, const Tensor& x, const Tensor& y, const double* h,
                          int order = 1);

// y = act(x @ W + b) with a registry activation in the GEMM's epilogue; *z
// receives the pre-activation x @ W + b, which the backward needs (the
// derivative of gelu or silu is not a function of y). The backward:
// dz = dy * act'(z) in one pass, then dx, dW and db as nn_dense_backward.
Tensor nn_dense_act(const Tensor& x, const Tensor& w, const Tensor* b, ActOp op, const double* h, Tensor* z);
void nn_dense_act_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& z, const Tensor& y,
                           ActOp op, const double* h, bool need_dx, bool need_db, Tensor* dx, Tensor* dw,
                           Tensor* db);

// Inverted dropout (Note [Dropout masks] in nn.cpp): x * mask / (1 - rate),
// the mask a function of the int64 `key` tensor's value and the element index.
// Applied to the output's gradient with the same key it is the backward.
Tensor nn_dropout(const Tensor& x, double rate, const Tensor& key);

}  // namespace pynn
