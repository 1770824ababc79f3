#include "elementwise.h"

#include "reduce.h"

namespace pynn {
bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::equal: case BinaryOp::not_equal: case BinaryOp::greater:
    case BinaryOp::greater_equal: case BinaryOp::less: case BinaryOp::less_equal:
      return true;
    default:
      return false;
  }
}

namespace {

// The dtype the loop computes in.
DType binary_compute_dtype(BinaryOp op, DType a, DType b) {
  DType c = promote(a, b);
  if (op == BinaryOp::divide && !is_float(c)) return DType::Float64;
  if (op == BinaryOp::power && c == DType::Bool) return DType::UInt8;  // NumPy: int8, which pynn lacks
  PYNN_CHECK_KIND(TypeError, !(op == BinaryOp::subtract && c == DType::Bool),
                  "subtract: boolean subtract (the - operator) is not supported; use logical_xor or != instead");
  return c;
}

DType unary_compute_dtype(UnaryOp op, DType x) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::log: case UnaryOp::sqrt: case UnaryOp::tanh: case UnaryOp::sigmoid:
      if (is_float(x)) return x;
      // NumPy gives float16 for bool/uint8; pynn's smallest float is float32.
      return x == DType::Bool || x == DType::UInt8 ? DType::Float32 : DType::Float64;
    case UnaryOp::square:
      return x == DType::Bool ? DType::UInt8 : x;  // NumPy: int8
    case UnaryOp::negative:
      PYNN_CHECK_KIND(TypeError, x != DType::Bool,
                      "negative: the - operator on a bool tensor is not supported; use logical_not instead");
      return x;
    default:
      return x;
  }
}

Tensor cast_if_needed(const Tensor& t, DType d) { return t.dtype == d ? t : ew_astype(t, d); }

// Shared by every op with an output: checks or allocates it.
// Returns the tensor the kernel writes; *copy_back says it is a temporary that
// must be cast into *out afterwards. As in NumPy, an out larger than the
// inputs' broadcast shape is fine when that shape broadcasts to out's: the
// inputs are then broadcast to out's shape, which *shape becomes.
Tensor prepare_out(const char* op, Dims* shape, DType result, const Tensor* out, const Tensor& like,
                   bool* copy_back) {
  *copy_back = false;
  if (!out) return tensor_empty_like_layout(*shape, result, like);
  tensor_check_writeable(op, *out);
  PYNN_CHECK(out->shape == *shape || shape_broadcasts_to(*shape, out->shape), op,
             ": non-broadcastable output operand with shape ", out->shape, " doesn't match the broadcast shape ",
             *shape);
  *shape = out->shape;
  PYNN_CHECK_KIND(TypeError, can_cast_same_kind(result, out->dtype), op, ": cannot cast the result from ",
                  dtype_name(result), " to the out dtype ", dtype_name(out->dtype), " with casting rule 'same_kind'");
  if (out->dtype == result) return *out;
  *copy_back = true;
  return tensor_empty_like_layout(*shape, result, *out);
}

// Inputs broadcast to `shape`; an input that overlaps the output other than
// exactly (Note [Restrict and in-place ops]) is copied first.
Tensor input_view(const char* op, const Tensor& x, const Dims& shape, const Tensor& dst) {
  Tensor v = tensor_broadcast_to(op, x, shape);
  if (tensor_may_overlap(v, dst) && !tensor_same_layout(v, dst)) v = tensor_broadcast_to(op, ew_astype(x, x.dtype), shape);
  return v;
}

Tensor finish(const Tensor& dst, const Tensor* out, bool copy_back) {
  if (!copy_back) return dst;
  ew_copy("out", *out, dst);
  return *out;
}

int64_t grain_for_unary(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: case UnaryOp::log: case UnaryOp::tanh: case UnaryOp::sigmoid:
      return kGrainSize / 4;  // costlier per element: split earlier
    default:
      return kGrainSize;
  }
}

}  // namespace

DType binary_result_dtype(BinaryOp op, DType a, DType b) {
  DType c = binary_compute_dtype(op, a, b);
  return is_comparison(op) ? DType::Bool : c;
}

DType unary_result_dtype(UnaryOp op, DType x) { return unary_compute_dtype(op, x); }

Tensor ew_binary(BinaryOp op, const Tensor& a_in, const Tensor& b_in, const Tensor* out, const char* name) {
  if (!name) name = binary_op_name(op);
  DType c = binary_compute_dtype(op, a_in.dtype, b_in.dtype);
  DType r = is_comparison(op) ? DType::Bool : c;
  Dims shape = broadcast_shapes(name, a_in.shape, b_in.shape);
  Tensor a = cast_if_needed(a_in, c), b = cast_if_needed(b_in, c);
  if (op == BinaryOp::power && is_signed_int(c) && b.numel() > 0) {
    Tensor m = reduce(ReduceOp::min, b, {}, true, false);
    int64_t lowest = c == DType::Int32 ? *reinterpret_cast<int32_t*>(m.data()) : *reinterpret_cast<int64_t*>(m.data());
    PYNN_CHECK(lowest >= 0, "power: integers to negative integer powers are not allowed");
  }
  bool copy_back;
  Tensor dst = prepare_out(name, &shape, r, out, a.shape == shape ? a : b, &copy_back);
  Tensor av = input_view(name, a, shape, dst), bv = input_view(name, b, shape, dst);
  InnerLoop loop = kernels().binary[static_cast<int>(op)][static_cast<int>(c)];
  PYNN_CHECK_KIND(TypeError, loop, name, ": unsupported dtype ", dtype_name(c));
  const Tensor* ops[] = {&dst, &av, &bv};
  iter_run(iter_make(3, ops, 0), loop);
  return finish(dst, out, copy_back);
}

Tensor ew_unary(UnaryOp op, const Tensor& x_in, const Tensor* out) {
  const char* name = unary_op_name(op);
  DType c = unary_compute_dtype(op, x_in.dtype);
  Tensor x = cast_if_needed(x_in, c);
  bool copy_back;
  Dims shape = x.shape;
  Tensor dst = prepare_out(name, &shape, c, out, x, &copy_back);
  Tensor xv = input_view(name, x, shape, dst);
  InnerLoop loop = kernels().unary[static_cast<int>(op)][static_cast<int>(c)];
  PYNN_CHECK_KIND(TypeError, loop, name, ": unsupported dtype ", dtype_name(c));
  const Tensor* ops[] = {&dst, &xv};
  iter_run(iter_make(2, ops, 0), loop, grain_for_unary(op));
  return finish(dst, out, copy_back);
}

Tensor ew_where(const Tensor& cond_in, const Tensor& a_in, const Tensor& b_in) {
  DType c = promote(a_in.dtype, b_in.dtype);
  Dims shape = broadcast_shapes("where", broadcast_shapes("where", cond_in.shape, a_in.shape), b_in.shape);
  Tensor cond = cast_if_needed(cond_in, DType::Bool), a = cast_if_needed(a_in, c), b = cast_if_needed(b_in, c);
  Tensor dst = tensor_empty_like_layout(shape, c, a.shape == shape ? a : b);
  Tensor cv = tensor_broadcast_to("where", cond, shape), av = tensor_broadcast_to("where", a, shape),
         bv = tensor_broadcast_to("where", b, shape);
  const Tensor* ops[] = {&dst, &cv, &av, &bv};
  iter_run(iter_make(4, ops, 0), kernels().where[static_cast<int>(c)]);
  return dst;
}

Tensor ew_clip(const Tensor& x, const Tensor* lo, const Tensor* hi, const Tensor* out) {
  if (!lo && !hi) {
    if (!out) return ew_astype(x, x.dtype);
    ew_copy("clip", *out, x);
    return *out;
  }
  if (!lo) return ew_binary(BinaryOp::minimum, x, *hi, out, "clip");
  if (!hi) return ew_binary(BinaryOp::maximum, x, *lo, out, "clip");
  DType c = promote(promote(x.dtype, lo->dtype), hi->dtype);
  Dims shape = broadcast_shapes("clip", broadcast_shapes("clip", x.shape, lo->shape), hi->shape);
  Tensor xc = cast_if_needed(x, c), loc = cast_if_needed(*lo, c), hic = cast_if_needed(*hi, c);
  bool copy_back;
  Tensor dst = prepare_out("clip", &shape, c, out, xc, &copy_back);
  Tensor xv = input_view("clip", xc, shape, dst), lv = input_view("clip", loc, shape, dst),
         hv = input_view("clip", hic, shape, dst);
  const Tensor* ops[] = {&dst, &xv, &lv, &hv};
  iter_run(iter_make(4, ops, 0), kernels().clip[static_cast<int>(c)]);
  return finish(dst, out, copy_back);
}

void ew_copy(const char* op, const Tensor& dst, const Tensor& src) {
  tensor_check_writeable(op, dst);
  Tensor sv = tensor_broadcast_to(op, src, dst.shape);
  if (tensor_may_overlap(sv, dst) && !tensor_same_layout(sv, dst)) {
    Tensor tmp = tensor_empty_like_layout(src.shape, src.dtype, src);
    ew_copy(op, tmp, src);
    sv = tensor_broadcast_to(op, tmp, dst.shape);
  }
  const Tensor* ops[] = {&dst, &sv};
  iter_run(iter_make(2, ops, 0), kernels().cast[static_cast<int>(src.dtype)][static_cast<int>(dst.dtype)]);
}

Tensor ew_astype(const Tensor& t, DType dtype) {
  Tensor r = tensor_empty_like_layout(t.shape, dtype, t);
  ew_copy("astype", r, t);
  return r;
}

Tensor ew_contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor r = tensor_empty(t.shape, t.dtype);
  ew_copy("contiguous", r, t);
  return r;
}

Tensor ew_reshape(const Tensor& t, const Dims& shape) {
  Tensor v;
  if (tensor_reshape_view(t, shape, &v)) return v;
  Tensor c = tensor_empty(t.shape, t.dtype);
  ew_copy("reshape", c, t);
  Tensor r;
  tensor_reshape_view(c, v.shape, &r);
  return r;
}

Tensor ew_full(const Dims& shape, const Tensor& scalar) {
  Tensor r = tensor_empty(shape, scalar.dtype);
  ew_copy("full", r, scalar);
  return r;
}

}  // namespace pynn
