// conv.h: 2-D convolution (and through it 1-D, depthwise, separable and
// transposed convolution) on the one GEMM.
#pragma once

#include "core/tensor.h"
#include "nn.h"

namespace pynn {

// Note [Convolution]
// x is (N, H, W, C) and may be any strided view (channels_first input is its
// transposed view, never copied); the kernel is Keras' (KH, KW, C / G, F) for G
// groups; the output is (N, OH, OW, F), contiguous. Output position (oy, ox)
// reads input rows oy * sh - pt + i * dh and columns ox * sw - pl + j * dw for
// i < KH, j < KW; positions outside the input read zeros. The geometry gives
// the pads before (pt, pl) and the output size (OH, OW) explicitly, so "valid",
// "same", "causal", explicit pads and the output_padding of a transposed
// convolution are all Python's arithmetic on the same kernel.
//
// Forward: im2col writes the patches, one row per output position and, per
// group, the KH * KW * C/G inputs it reads in the kernel's (i, j, c) order; a
// GEMM per group multiplies them by the kernel viewed as (KH*KW*C/G, F) with
// the bias and the activation in its epilogue, as the dense layer does (Note
// [Dense layer]). A 1x1 kernel with stride 1 and no padding reads x itself as
// the patches (no copy) when x is contiguous. Both run a block of images at a
// time (Note [Convolution blocks] in conv.cpp), so the patches stay in cache.
//
// Backward from dz (dy with the activation's derivative folded in, from y, a
// block at a time; db sums each block while it is in cache): dW = patches^T dz
// with the patches made again (cheaper than keeping them: x is KH*KW times
// smaller), and dx = col2im(dz W^T): each row of the product is added back
// into the inputs its position read; a block holds whole images, so the
// overlapping windows never race.
//
// The three linear maps conv (x, W -> y), input_grad (dz, W -> dx) and
// kernel_grad (x, dz -> dW) are each other's gradients, so the tape builds
// gradients of any order from them (and conv_transpose is input_grad).
struct ConvGeom {
  int64_t sh = 1, sw = 1;  // strides
  int64_t dh = 1, dw = 1;  // dilations
  int64_t pt = 0, pl = 0;  // pads before: top, left (>= 0)
  int64_t oh = 0, ow = 0;  // output size
};

// y = act(conv(x, w) + b); act is linear, relu, sigmoid or tanh.
Tensor nn_conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const ConvGeom& g, Activation act);

// The gradients of nn_conv2d from dy: dz = dy * act'(y), then those asked for
// (the patches are made again, block by block: Note [Convolution blocks]).
void nn_conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y, const ConvGeom& g,
                        Activation act, bool need_dx, bool need_dw, bool need_db, Tensor* dx, Tensor* dw, Tensor* db);

// dx (of shape x_shape, (N, H, W, C)) = the gradient of conv(x, w) for dz:
// also the transposed convolution of dz.
Tensor nn_conv2d_input_grad(const Tensor& dz, const Tensor& w, const ConvGeom& g, const Dims& x_shape);

// dW (of shape w_shape, (KH, KW, C/G, F)) = the gradient of conv(x, w) for dz.
Tensor nn_conv2d_kernel_grad(const Tensor& x, const Tensor& dz, const ConvGeom& g, const Dims& w_shape);

}  // namespace pynn
