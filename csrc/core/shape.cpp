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

int64_t shape_numel(const Dims& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Dims contiguous_strides(const Dims& shape, int64_t itemsize) {
  Dims st = Dims::filled(shape.n, 0);
  int64_t s = itemsize;
  for (int i = shape.n - 1; i >= 0; --i) {
    st[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
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

int normalize_axis(const char* op, int64_t axis, int ndim) {
  if (axis < -ndim || axis >= ndim)
    throw AxisError(detail::cat(op, ": axis ", axis, " is out of bounds for array of dimension ", ndim));
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

}  // namespace pynn
