// elementwise.h: element-wise ops, copies and casts with NumPy's broadcasting,
// type promotion and out= rules. The inner loops live in the kernel table;
// this layer resolves dtypes and shapes, then runs the one iterator.
#pragma once

#include "core/tensor.h"
#include "kernel_table.h"

namespace pynn {

// NumPy's result dtype of a binary op for two (already promoted) operand
// dtypes; TypeError when the op does not take them.
DType binary_result_dtype(BinaryOp op, DType a, DType b);
DType unary_result_dtype(UnaryOp op, DType x);

// out may be null. When given it must have the broadcast shape and a dtype the
// result can be cast to under NumPy's same_kind rule; the result is out.
// The six comparisons (their results are bool).
bool is_comparison(BinaryOp op);
// `name` is the op its errors name (the public function calling it); null: op's own name.
Tensor ew_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor* out, const char* name = nullptr);
Tensor ew_unary(UnaryOp op, const Tensor& x, const Tensor* out);
Tensor ew_where(const Tensor& cond, const Tensor& a, const Tensor& b);
// lo or hi may be null (not both are needed).
Tensor ew_clip(const Tensor& x, const Tensor* lo, const Tensor* hi, const Tensor* out);

// dst[...] = src: broadcasts src to dst's shape and casts (NumPy's unsafe
// assignment casting). Safe when src overlaps dst.
void ew_copy(const char* op, const Tensor& dst, const Tensor& src);
Tensor ew_astype(const Tensor& t, DType dtype);      // always a new tensor, t's memory order
Tensor ew_contiguous(const Tensor& t);               // t itself when already contiguous
Tensor ew_reshape(const Tensor& t, const Dims& shape);  // a view when possible, else a copy
Tensor ew_full(const Dims& shape, const Tensor& scalar);  // scalar: a 0-d tensor of the dtype wanted

}  // namespace pynn
