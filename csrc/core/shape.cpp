#include "shape.h"

namespace pynn {

std::ostream& operator<<(std::ostream& os, const Dims& d) {
  os << '(';
  for (int i = 0; i < d.n; ++i) {
    if (i) os << ',';
    os << d.v[i];
  }
  if (d.n == 1) os << ',';
  return os << ')';
}

int64_t size_mul(const char* op, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw ValueError(detail::cat(op, ": array is too big; `arr.size * arr.dtype.itemsize` is larger than the "
                                 "maximum possible size"));
  return r;
}

int64_t shape_check(const char* op, const Dims& shape, int64_t itemsize) {
  for (int64_t s : shape) PYNN_CHECK(s >= 0, op, ": negative dimensions are not allowed: ", shape);
  int64_t nonzero = itemsize, numel = 1;
  for (int64_t s : shape) {
    int64_t r;
    if (s != 0 && __builtin_mul_overflow(nonzero, s, &r))
      throw ValueError(detail::cat(op, ": array is too big; `arr.size * arr.dtype.itemsize` is larger than the "
                                   "maximum possible size (shape ", shape, ", itemsize ", itemsize, ")"));
    if (s != 0) nonzero = r;
    numel *= s;  // <= nonzero / itemsize: cannot wrap
  }
  return numel;
}

int64_t shape_numel(const Dims& shape) {
  for (int64_t s : shape)
    if (s == 0) return 0;
  int64_t n = 1;
  for (int64_t s : shape) n = size_mul("shape", n, s);
  return n;
}

Dims contiguous_strides(const Dims& shape, int64_t itemsize) {
  Dims st = Dims::filled(shape.n, 0);
  int64_t s = itemsize;
  for (int i = shape.n - 1; i >= 0; --i) {
    st[i] = s;
    if (i > 0) s = size_mul("strides", s, shape[i] > 0 ? shape[i] : 1);
  }
  return st;
}

Dims broadcast_shapes(const char* op, const Dims& a, const Dims& b) {
  int n = a.n > b.n ? a.n : b.n;
  Dims out = Dims::filled(n, 1);
  for (int i = 0; i < n; ++i) {
    int64_t da = i < n - a.n ? 1 : a[i - (n - a.n)];
    int64_t db = i < n - b.n ? 1 : b[i - (n - b.n)];
    PYNN_CHECK(da == db || da == 1 || db == 1, op, ": operands could not be broadcast together with shapes ", a,
               " ", b);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

bool shape_broadcasts_to(const Dims& from, const Dims& to) {
  if (from.n > to.n) return false;
  int lead = to.n - from.n;
  for (int i = 0; i < from.n; ++i)
    if (from[i] != 1 && from[i] != to[lead + i]) return false;
  return true;
}

int normalize_axis(const char* op, int64_t axis, int ndim) {
  if (axis < -ndim || axis >= ndim)
    throw AxisError(detail::cat(op, ": axis ", axis, " is out of bounds for array of dimension ", ndim));
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

}  // namespace pynn
