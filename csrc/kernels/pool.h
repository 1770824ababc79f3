// pool.h: 2-D max and average pooling, forward and backward (Note [Pooling]).
#pragma once

#include "core/tensor.h"

namespace pynn {

// Note [Pooling]
// Layout. The kernels see x as (N, H, W, C), any strides: a channels_last
// input is itself, a channels_first (N, C, H, W) input is passed as its
// transposed view (no copy), and 1-D pooling is 2-D pooling with H == 1
// (pynn/ops.py makes the views). Outputs are new contiguous (N, OH, OW, C)
// tensors; ops.py views them back in the caller's layout. When C is the
// contiguous axis (channels_last) the innermost loop runs over C with unit
// stride and is vectorised; otherwise the same loop takes C's stride.
//
// Padding. The pads (top, bottom, left, right) are explicit; ops.py derives
// them from Keras' "valid" (none) and "same" (TensorFlow's rule: out =
// ceil(in / stride), total = max((out - 1) * stride + pool - in, 0), the
// smaller half before). Padded positions are never read: each window is
// clipped to the image, so max pooling never picks a pad and average pooling
// divides by the number of real elements in the window (TensorFlow's and
// Keras' "same" average). Each pad must be smaller than the window, which
// makes every window hold at least one real element; OH = (H + top + bottom
// - ph) / sh + 1 and likewise OW. An empty image (H or W == 0) gives OH or
// OW == 0.
//
// Max. A window's result is its first largest element in row-major order
// (h, then w), or its first NaN: a NaN propagates as in np.max. The forward
// also returns the argmax, for the backward: an int32 (N, OH, OW, C) tensor
// holding h * W + w, the flat position inside the image (so H * W must fit
// in int32). The backward gives all of dy to that position.
//
// Backward as a gather. Both backwards compute each dx[n, h, w, :] once,
// summing over the (at most ceil(ph / sh) * ceil(pw / sw)) outputs whose
// windows hold (h, w), in (oh, ow) order: dy / count for average, dy where
// the argmax is (h, w) for max (a select, so an inf or NaN in dy reaches
// only its own argmax). Overlapping windows (stride < pool) add up without
// a zeroing pass, without atomics, and the sums' order is fixed. Both
// backwards are linear in dy; their adjoints (second-order gradients, when
// an outer tape records the backward) are average pooling itself and
// pool_max2d_gather, which reads a tensor at the saved argmax.
//
// Threads. The forward splits the N * OH output rows, the backward the
// N * H input rows, into contiguous ranges (parallel_for, grain from the
// work per row); every output element is computed by one thread from the
// same terms in the same order, so results are bit-identical for any thread
// count. The kernels allocate only their results (and the backward a cast
// of dy to x's dtype when it differs), never scratch, so a captured step
// replays them as they are (Note [Captured allocations]). pool.cpp is built
// once, for baseline x86-64 (SSE2 vectors), not per ISA through the kernel
// table (Note [Kernel table]): the loops are memory-bound; moving them there
// is the step to take if a profile asks for it.
struct PoolGeometry {
  int64_t ph, pw;                      // window
  int64_t sh, sw;                      // strides
  int64_t top, bottom, left, right;    // pads, each smaller than the window
};

// x: float32 or float64 (N, H, W, C), any strides. Sets *y ((N, OH, OW, C),
// x's dtype, contiguous) and *argmax (its shape, int32).
void pool_max2d(const Tensor& x, const PoolGeometry& g, Tensor* y, Tensor* argmax);

// dy: (N, OH, OW, C), any strides (cast to `dtype` when it differs); argmax
// as returned by pool_max2d for an input of shape x_shape and dtype `dtype`.
// Returns dx: (N, H, W, C), contiguous.
Tensor pool_max2d_backward(const Tensor& dy, const Tensor& argmax, const Dims& x_shape, DType dtype,
                           const PoolGeometry& g);

// The adjoint of pool_max2d_backward (its derivative, for second-order
// gradients): out[n, oh, ow, c] = h[n, argmax / W, argmax % W, c]. h: x's
// shape (N, H, W, C), float, any strides. Returns (N, OH, OW, C), contiguous.
Tensor pool_max2d_gather(const Tensor& h, const Tensor& argmax);

// x: float32 or float64 (N, H, W, C), any strides. Returns (N, OH, OW, C),
// contiguous: each window's sum over its real elements / their count.
Tensor pool_avg2d(const Tensor& x, const PoolGeometry& g);

// dy: (N, OH, OW, C) for an input of shape x_shape, any strides (cast to
// `dtype` when it differs). Returns dx: (N, H, W, C), contiguous.
Tensor pool_avg2d_backward(const Tensor& dy, const Dims& x_shape, DType dtype, const PoolGeometry& g);

}  // namespace pynn
