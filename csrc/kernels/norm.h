// norm.h: batch normalization as one op, forward and backward (Note [Batch norm]).
#pragma once

#include "core/tensor.h"

namespace pynn {

// Note [Batch norm]
// BatchNormalization normalizes x over every axis but `axis` (the features).
// It is one graph node, as PyTorch's native_batch_norm, instead of the ~10
// element-wise ops and reductions forward and ~30 backward it was composed
// of (each a pass over x). x is seen as (outer, C, inner), C the features;
// N = outer * inner elements share a feature.
//
// Forward, training: mean and the biased variance per feature, accumulated
// in double, in two passes (the mean, then the sum of squared deviations
// from it: no cancellation, as mean(square(x - mean))), then
// y = (x - mean) * inv_std * gamma + beta in one pass, inv_std =
// 1 / sqrt(var + eps) per feature. Inference: the same last pass with the
// moving statistics. `saved` (2, C) float64 keeps [mean; inv_std] (the batch's
// or the moving ones) for the backward.
//
// Backward: sum_dy = sum(dy) and sum_dy_xhat = sum(dy * xhat) per feature in
// one pass (double), xhat = (x - mean) * inv_std; then in training
// dx = gamma * inv_std / N * (N dy - sum_dy - xhat sum_dy_xhat), in inference
// dx = dy * gamma * inv_std, one pass. dgamma = sum_dy_xhat, dbeta = sum_dy
// (pynn/ops.py maps the sums to the gradients of its inputs).
//
// Parallel split, from the shape alone, so results are bit-identical for any
// thread count: the per-feature sums either cut the outer axis into fixed
// blocks of rows, each folded into its own partial sums, combined in block
// order (inner == 1, the (batch, features) case: a row is C contiguous
// features; or fewer than 16 features), or give each thread whole features
// (inner > 1 and C >= 16: NCHW images). The element-wise passes split the
// elements. The loops are a family of the kernel table (NormSum, NormApply
// in kernel_table.h; loops_norm.h), compiled per ISA: AVX2 runs the
// (128, 512) float32 forward and backward about 1.5x faster than baseline
// x86-64.

// x: float32 or float64, ndim >= 1, any strides; gamma, beta (optional) and,
// in inference, moving_mean and moving_var: x's dtype, shape (C,), any
// stride. Sets *y (x's shape, contiguous), *saved ((2, C) float64) and, in
// training, *mean and *var ((C,), x's dtype: the batch statistics).
void norm_batch(const Tensor& x, int64_t axis, const Tensor* gamma, const Tensor* beta, double eps, bool training,
                const Tensor* moving_mean, const Tensor* moving_var, Tensor* y, Tensor* mean, Tensor* var,
                Tensor* saved);

// dy: x's shape (cast to x's dtype when it differs); x and saved as given to
// and returned by norm_batch. Sets *dx when need_dx (x's shape, contiguous)
// and *sum_dy_xhat, *sum_dy ((C,), x's dtype) when need_sums.
void norm_batch_backward(const Tensor& dy, const Tensor& x, const Tensor& saved, const Tensor* gamma, int64_t axis,
                         bool training, bool need_dx, bool need_sums, Tensor* dx, Tensor* sum_dy_xhat,
                         Tensor* sum_dy);

}  // namespace pynn
