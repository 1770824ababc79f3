// shape.h: small fixed-capacity dimension lists and the shape rules.
#pragma once

#include <cstdint>
#include <ostream>

#include "check.h"

namespace pynn {

// NumPy allows 64 dimensions; pynn allows 16, which keeps Dims on the stack.
constexpr int kMaxDims = 16;

// An axis out of range: both ValueError and IndexError in Python, like NumPy's AxisError.
struct AxisError : std::runtime_error { using std::runtime_error::runtime_error; };

struct Dims {
  int64_t v[kMaxDims] = {};
  int n = 0;

  Dims() = default;
  Dims(std::initializer_list<int64_t> l) {
    for (int64_t x : l) push_back(x);
  }
  static Dims filled(int n, int64_t value) {
    Dims d;
    for (int i = 0; i < n; ++i) d.push_back(value);
    return d;
  }
  int size() const { return n; }
  void push_back(int64_t x) {
    PYNN_CHECK(n < kMaxDims, "pynn supports at most ", kMaxDims, " dimensions");
    v[n++] = x;
  }
  int64_t& operator[](int i) { return v[i]; }
  int64_t operator[](int i) const { return v[i]; }
  const int64_t* begin() const { return v; }
  const int64_t* end() const { return v + n; }
  int64_t* data() { return v; }
  const int64_t* data() const { return v; }
  bool operator==(const Dims& o) const {
    if (n != o.n) return false;
    for (int i = 0; i < n; ++i)
      if (v[i] != o.v[i]) return false;
    return true;
  }
  bool operator!=(const Dims& o) const { return !(*this == o); }
};

// Prints like NumPy's tuples: (2,3), (4,), ().
std::ostream& operator<<(std::ostream& os, const Dims& d);

// Note [Size limits]
// As in NumPy, a tensor's size in bytes fits in int64: every dim is >= 0 and
// the product of the nonzero dims times the itemsize is at most INT64_MAX
// (so (0, 2**62) float64 is refused too, as NumPy refuses it). shape_check is
// the one place where sizes are multiplied with an overflow check; every
// place that makes a shape calls it (tensor_empty, broadcast_to, reshape), and
// its errors are ValueErrors naming the op ("array is too big", "negative
// dimensions are not allowed"). Past that point numel, nbytes, contiguous
// strides and index * stride within a tensor's extent fit in int64, so the
// iterator and the kernels compute them unchecked. shape_numel and
// contiguous_strides still multiply through size_mul, so a shape that missed
// the check raises instead of wrapping. A view of a huge shape over stride-0
// memory is fine while its nbytes fits (NumPy's rule); materialising it is an
// allocation, which fails with MemoryError (storage.cpp).

// a * b for sizes a, b >= 0; ValueError "<op>: array is too big" past INT64_MAX.
int64_t size_mul(const char* op, int64_t a, int64_t b);
// Checks `shape` for a tensor of itemsize-byte elements (Note [Size limits]);
// returns its numel.
int64_t shape_check(const char* op, const Dims& shape, int64_t itemsize);
int64_t shape_numel(const Dims& shape);  // 0 when any dim is 0; never wraps
Dims contiguous_strides(const Dims& shape, int64_t itemsize);

// NumPy broadcasting of two shapes; the error names op and both shapes.
Dims broadcast_shapes(const char* op, const Dims& a, const Dims& b);
// Whether `from` broadcasts to exactly `to` (NumPy's broadcast_to rule).
bool shape_broadcasts_to(const Dims& from, const Dims& to);

// A possibly negative axis -> [0, ndim); AxisError naming op, axis and ndim.
int normalize_axis(const char* op, int64_t axis, int ndim);

}  // namespace pynn
