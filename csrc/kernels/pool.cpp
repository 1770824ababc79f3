// pool.cpp: 2-D max and average pooling (Note [Pooling] in pool.h).
#include "pool.h"

#include <algorithm>
#include <climits>
#include <type_traits>

#include "core/parallel.h"
#include "elementwise.h"

namespace pynn {
namespace {

// Sizes of one pooling problem, x seen as (N, H, W, C), y as (N, OH, OW, C).
struct PoolShape {
  int64_t n, h, w, c, oh, ow;
};

// A 4-D (N, H, W, C) tensor's strides in elements (they are multiples of
// the itemsize, Note [Strided tensor]).
struct Strides4 {
  int64_t n, h, w, c;
};

Strides4 element_strides(const Tensor& t) {
  const int64_t e = t.elsize();
  return {t.strides[0] / e, t.strides[1] / e, t.strides[2] / e, t.strides[3] / e};
}

// Window start positions are oh * sh - top; the window of output oh covers
// the rows [max(start, 0), min(start + ph, H)).
inline int64_t clip_lo(int64_t start) { return start > 0 ? start : 0; }
inline int64_t clip_hi(int64_t end, int64_t size) { return end < size ? end : size; }

// The outputs whose windows hold input row h: [lo, hi) (stride s, pad before p, window k, out outputs).
inline void covering(int64_t h, int64_t k, int64_t s, int64_t p, int64_t out, int64_t* lo, int64_t* hi) {
  // Output o covers [o * s - p, o * s - p + k): it holds h when h + p - k < o * s <= h + p.
  const int64_t first = h + p - k + 1;
  *lo = first <= 0 ? 0 : (first + s - 1) / s;
  *hi = std::min(out, (h + p) / s + 1);
}

// One output extent for one axis: padded size minus the window over the stride, plus one.
int64_t out_extent(const char* op, const char* axis, int64_t in, int64_t k, int64_t s, int64_t before,
                   int64_t after) {
  if (in == 0) return 0;
  const int64_t padded = in + before + after;
  PYNN_CHECK(padded >= k, op, ": the window ", k, " is larger than the padded ", axis, " ", padded, " (", in,
             " + pads ", before, " and ", after, ")");
  return (padded - k) / s + 1;
}

void check_geometry(const char* op, const PoolGeometry& g) {
  // Bounded so that sums of sizes and pads never overflow int64.
  constexpr int64_t kMax = INT32_MAX;
  PYNN_CHECK(g.ph >= 1 && g.pw >= 1 && g.ph <= kMax && g.pw <= kMax, op, ": pool_size must be positive, got (",
             g.ph, ", ", g.pw, ")");
  PYNN_CHECK(g.sh >= 1 && g.sw >= 1 && g.sh <= kMax && g.sw <= kMax, op, ": strides must be positive, got (", g.sh,
             ", ", g.sw, ")");
  PYNN_CHECK(g.top >= 0 && g.bottom >= 0 && g.left >= 0 && g.right >= 0 && g.top < g.ph && g.bottom < g.ph &&
                 g.left < g.pw && g.right < g.pw,
             op, ": pads (top ", g.top, ", bottom ", g.bottom, ", left ", g.left, ", right ", g.right,
             ") must be >= 0 and smaller than the window (", g.ph, ", ", g.pw, ")");
}

// Checks x (or x's shape) and the geometry; returns the problem's sizes.
PoolShape pool_shape(const char* op, const Dims& x_shape, const PoolGeometry& g) {
  PYNN_CHECK(x_shape.size() == 4, op, ": expected a 4-D (N, H, W, C) input, got shape ", x_shape);
  check_geometry(op, g);
  PoolShape s{x_shape[0], x_shape[1], x_shape[2], x_shape[3], 0, 0};
  s.oh = out_extent(op, "height", s.h, g.ph, g.sh, g.top, g.bottom);
  s.ow = out_extent(op, "width", s.w, g.pw, g.sw, g.left, g.right);
  return s;
}

void check_float(const char* op, DType d) {
  PYNN_CHECK_KIND(TypeError, is_float(d), op, ": x must be float32 or float64, got ", dtype_name(d));
}

// Rows per parallel item from the elements one row reads.
// (In double: the product of a row's size and the window may pass int64.)
int64_t rows_grain(double work_per_row) {
  return work_per_row >= kGrainSize ? 1 : static_cast<int64_t>(kGrainSize / std::max(work_per_row, 1.0));
}
// Elements read per output row (forward) and per input row (backward).
double forward_row_work(const PoolShape& s, const PoolGeometry& g) {
  return double(s.ow) * double(s.c) * double(std::min(g.ph, s.h)) * double(std::min(g.pw, s.w));
}
double backward_row_work(const PoolShape& s, const PoolGeometry& g) {
  return double(s.w) * double(s.c) * double((g.ph + g.sh - 1) / g.sh) * double((g.pw + g.sw - 1) / g.sw);
}

// ---------------------------------------------------------------- forward

// Output rows [r0, r1) of N * OH. kUnitC: C has stride 1 in x (a compile-time
// stride, so the loops over C vectorise).
template <class T, bool kUnitC>
void max_rows(const T* x, Strides4 xs, const PoolShape& s, const PoolGeometry& g, T* y, int32_t* arg, int64_t r0,
              int64_t r1) {
  const int64_t C = s.c, cs = kUnitC ? 1 : xs.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.oh, oh = r % s.oh;
    const int64_t h0 = oh * g.sh - g.top, h_lo = clip_lo(h0), h_hi = clip_hi(h0 + g.ph, s.h);
    for (int64_t ow = 0; ow < s.ow; ++ow) {
      const int64_t w0 = ow * g.sw - g.left, w_lo = clip_lo(w0), w_hi = clip_hi(w0 + g.pw, s.w);
      T* __restrict yo = y + (r * s.ow + ow) * C;
      int32_t* __restrict ao = arg + (r * s.ow + ow) * C;
      bool first = true;
      for (int64_t h = h_lo; h < h_hi; ++h) {
        for (int64_t w = w_lo; w < w_hi; ++w) {
          const T* __restrict src = x + n * xs.n + h * xs.h + w * xs.w;
          const int32_t idx = static_cast<int32_t>(h * s.w + w);
          if (first) {
            for (int64_t c = 0; c < C; ++c) {
              yo[c] = src[c * cs];
              ao[c] = idx;
            }
            first = false;
            continue;
          }
          for (int64_t c = 0; c < C; ++c) {
            const T v = src[c * cs], best = yo[c];
            // v wins when larger or NaN, unless the best so far is already NaN.
            const bool take = !(v <= best) && best == best;
            yo[c] = take ? v : best;
            ao[c] = take ? idx : ao[c];
          }
        }
      }
    }
  }
}

template <class T, bool kUnitC>
void avg_rows(const T* x, Strides4 xs, const PoolShape& s, const PoolGeometry& g, T* y, int64_t r0, int64_t r1) {
  const int64_t C = s.c, cs = kUnitC ? 1 : xs.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.oh, oh = r % s.oh;
    const int64_t h0 = oh * g.sh - g.top, h_lo = clip_lo(h0), h_hi = clip_hi(h0 + g.ph, s.h);
    for (int64_t ow = 0; ow < s.ow; ++ow) {
      const int64_t w0 = ow * g.sw - g.left, w_lo = clip_lo(w0), w_hi = clip_hi(w0 + g.pw, s.w);
      T* __restrict yo = y + (r * s.ow + ow) * C;
      std::fill(yo, yo + C, T(0));
      for (int64_t h = h_lo; h < h_hi; ++h) {
        for (int64_t w = w_lo; w < w_hi; ++w) {
          const T* __restrict src = x + n * xs.n + h * xs.h + w * xs.w;
          for (int64_t c = 0; c < C; ++c) yo[c] += src[c * cs];
        }
      }
      const T count = static_cast<T>((h_hi - h_lo) * (w_hi - w_lo));
      for (int64_t c = 0; c < C; ++c) yo[c] /= count;
    }
  }
}

// ---------------------------------------------------------------- backward (gathers)

// Input rows [r0, r1) of N * H. dx contiguous (N, H, W, C); dy any strides.
template <class T, bool kUnitC>
void max_back_rows(const T* dy, Strides4 ds, const int32_t* arg, const PoolShape& s, const PoolGeometry& g, T* dx,
                   int64_t r0, int64_t r1) {
  const int64_t C = s.c, cs = kUnitC ? 1 : ds.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.h, h = r % s.h;
    int64_t oh_lo, oh_hi;
    covering(h, g.ph, g.sh, g.top, s.oh, &oh_lo, &oh_hi);
    for (int64_t w = 0; w < s.w; ++w) {
      int64_t ow_lo, ow_hi;
      covering(w, g.pw, g.sw, g.left, s.ow, &ow_lo, &ow_hi);
      T* __restrict d = dx + (r * s.w + w) * C;
      std::fill(d, d + C, T(0));
      const int32_t idx = static_cast<int32_t>(h * s.w + w);
      for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
        for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
          const T* __restrict gy = dy + n * ds.n + oh * ds.h + ow * ds.w;
          const int32_t* __restrict a = arg + ((n * s.oh + oh) * s.ow + ow) * C;
          for (int64_t c = 0; c < C; ++c) {
            const T v = gy[c * cs];  // read unconditionally, so the select vectorises
            d[c] += a[c] == idx ? v : T(0);
          }
        }
      }
    }
  }
}

template <class T, bool kUnitC>
void avg_back_rows(const T* dy, Strides4 ds, const PoolShape& s, const PoolGeometry& g, T* dx, int64_t r0,
                   int64_t r1) {
  const int64_t C = s.c, cs = kUnitC ? 1 : ds.c;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.h, h = r % s.h;
    int64_t oh_lo, oh_hi;
    covering(h, g.ph, g.sh, g.top, s.oh, &oh_lo, &oh_hi);
    for (int64_t w = 0; w < s.w; ++w) {
      int64_t ow_lo, ow_hi;
      covering(w, g.pw, g.sw, g.left, s.ow, &ow_lo, &ow_hi);
      T* __restrict d = dx + (r * s.w + w) * C;
      std::fill(d, d + C, T(0));
      for (int64_t oh = oh_lo; oh < oh_hi; ++oh) {
        const int64_t h0 = oh * g.sh - g.top, rows = clip_hi(h0 + g.ph, s.h) - clip_lo(h0);
        for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
          const int64_t w0 = ow * g.sw - g.left, cols = clip_hi(w0 + g.pw, s.w) - clip_lo(w0);
          const T count = static_cast<T>(rows * cols);
          const T* __restrict gy = dy + n * ds.n + oh * ds.h + ow * ds.w;
          for (int64_t c = 0; c < C; ++c) d[c] += gy[c * cs] / count;
        }
      }
    }
  }
}

// Calls f(std::true_type) when C has unit stride (or C <= 1), else f(std::false_type).
template <class F>
void with_unit_c(int64_t c_stride, int64_t C, F&& f) {
  if (c_stride == 1 || C <= 1) f(std::true_type{});
  else f(std::false_type{});
}

// dy as a tensor of dtype `dtype` (a cast copy when it differs).
Tensor cast_to(const Tensor& t, DType dtype) { return t.dtype == dtype ? t : ew_astype(t, dtype); }

void check_dy(const char* op, const Tensor& dy, const PoolShape& s) {
  PYNN_CHECK_KIND(TypeError, dy.dtype != DType::Bool, op, ": the gradient is bool");
  PYNN_CHECK(dy.shape == (Dims{s.n, s.oh, s.ow, s.c}), op, ": the gradient has shape ", dy.shape, ", expected ",
             Dims{s.n, s.oh, s.ow, s.c});
}

void check_argmax(const char* op, const Tensor& argmax, const PoolShape& s) {
  PYNN_CHECK(argmax.dtype == DType::Int32 && argmax.is_contiguous() && argmax.shape == (Dims{s.n, s.oh, s.ow, s.c}),
             op, ": argmax must be a contiguous int32 tensor of shape ", Dims{s.n, s.oh, s.ow, s.c}, ", got ",
             dtype_name(argmax.dtype), " ", argmax.shape);
}

}  // namespace

void pool_max2d(const Tensor& x, const PoolGeometry& g, Tensor* y, Tensor* argmax) {
  check_float("max_pool", x.dtype);
  const PoolShape s = pool_shape("max_pool", x.shape, g);
  PYNN_CHECK(s.h == 0 || s.w <= INT32_MAX / s.h, "max_pool: images of ", s.h, " x ", s.w,
             " positions are too large (the saved argmax is an int32 index inside the image)");
  *y = tensor_empty(Dims{s.n, s.oh, s.ow, s.c}, x.dtype);
  *argmax = tensor_empty(Dims{s.n, s.oh, s.ow, s.c}, DType::Int32);
  const Strides4 xs = element_strides(x);
  const int64_t grain = rows_grain(forward_row_work(s, g));
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* xp = reinterpret_cast<const T*>(x.data());
      T* yp = reinterpret_cast<T*>(y->data());
      int32_t* ap = reinterpret_cast<int32_t*>(argmax->data());
      with_unit_c(xs.c, s.c, [&](auto unit) {
        parallel_for(s.n * s.oh, grain, [&](int64_t r0, int64_t r1) {
          max_rows<T, decltype(unit)::value>(xp, xs, s, g, yp, ap, r0, r1);
        });
      });
    }
  });
}

Tensor pool_avg2d(const Tensor& x, const PoolGeometry& g) {
  check_float("average_pool", x.dtype);
  const PoolShape s = pool_shape("average_pool", x.shape, g);
  Tensor y = tensor_empty(Dims{s.n, s.oh, s.ow, s.c}, x.dtype);
  const Strides4 xs = element_strides(x);
  const int64_t grain = rows_grain(forward_row_work(s, g));
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* xp = reinterpret_cast<const T*>(x.data());
      T* yp = reinterpret_cast<T*>(y.data());
      with_unit_c(xs.c, s.c, [&](auto unit) {
        parallel_for(s.n * s.oh, grain, [&](int64_t r0, int64_t r1) {
          avg_rows<T, decltype(unit)::value>(xp, xs, s, g, yp, r0, r1);
        });
      });
    }
  });
  return y;
}

Tensor pool_max2d_backward(const Tensor& dy_in, const Tensor& argmax, const Dims& x_shape, DType dtype,
                           const PoolGeometry& g) {
  check_float("max_pool backward", dtype);
  const PoolShape s = pool_shape("max_pool backward", x_shape, g);
  check_dy("max_pool backward", dy_in, s);
  check_argmax("max_pool backward", argmax, s);
  // The results, outside any scratch scope and in this order on every call (Note [Captured allocations]).
  const Tensor dy = cast_to(dy_in, dtype);
  Tensor dx = tensor_empty(x_shape, dtype);
  const Strides4 ds = element_strides(dy);
  dispatch_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* dyp = reinterpret_cast<const T*>(dy.data());
      const int32_t* ap = reinterpret_cast<const int32_t*>(argmax.data());
      T* dxp = reinterpret_cast<T*>(dx.data());
      with_unit_c(ds.c, s.c, [&](auto unit) {
        parallel_for(s.n * s.h, rows_grain(backward_row_work(s, g)), [&](int64_t r0, int64_t r1) {
          max_back_rows<T, decltype(unit)::value>(dyp, ds, ap, s, g, dxp, r0, r1);
        });
      });
    }
  });
  return dx;
}

Tensor pool_max2d_gather(const Tensor& h, const Tensor& argmax) {
  check_float("max_pool gather", h.dtype);
  PYNN_CHECK(h.ndim() == 4 && argmax.ndim() == 4 && argmax.shape[0] == h.shape[0] && argmax.shape[3] == h.shape[3],
             "max_pool gather: expected h (N, H, W, C) and argmax (N, OH, OW, C), got ", h.shape, " and ",
             argmax.shape);
  PYNN_CHECK(argmax.dtype == DType::Int32 && argmax.is_contiguous(),
             "max_pool gather: argmax must be a contiguous int32 tensor, got ", dtype_name(argmax.dtype));
  const int64_t N = h.shape[0], H = h.shape[1], W = h.shape[2], C = h.shape[3];
  const int64_t OH = argmax.shape[1], OW = argmax.shape[2];
  PYNN_CHECK(H * W > 0 || argmax.numel() == 0, "max_pool gather: h has no positions, argmax has shape ",
             argmax.shape);
  Tensor out = tensor_empty(argmax.shape, h.dtype);
  const Strides4 hs = element_strides(h);
  dispatch_dtype(h.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* hp = reinterpret_cast<const T*>(h.data());
      const int32_t* ap = reinterpret_cast<const int32_t*>(argmax.data());
      T* op = reinterpret_cast<T*>(out.data());
      parallel_for(N * OH, rows_grain(double(OW) * double(C)), [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) {
          const T* img = hp + (r / OH) * hs.n;
          for (int64_t i = r * OW * C; i < (r + 1) * OW * C; ++i) {
            const int64_t pos = ap[i] >= 0 && ap[i] < H * W ? ap[i] : 0;  // always in range when from pool_max2d
            op[i] = img[(pos / W) * hs.h + (pos % W) * hs.w + (i % C) * hs.c];
          }
        }
      });
    }
  });
  return out;
}

Tensor pool_avg2d_backward(const Tensor& dy_in, const Dims& x_shape, DType dtype, const PoolGeometry& g) {
  check_float("average_pool backward", dtype);
  const PoolShape s = pool_shape("average_pool backward", x_shape, g);
  check_dy("average_pool backward", dy_in, s);
  const Tensor dy = cast_to(dy_in, dtype);
  Tensor dx = tensor_empty(x_shape, dtype);
  const Strides4 ds = element_strides(dy);
  dispatch_dtype(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const T* dyp = reinterpret_cast<const T*>(dy.data());
      T* dxp = reinterpret_cast<T*>(dx.data());
      with_unit_c(ds.c, s.c, [&](auto unit) {
        parallel_for(s.n * s.h, rows_grain(backward_row_work(s, g)), [&](int64_t r0, int64_t r1) {
          avg_back_rows<T, decltype(unit)::value>(dyp, ds, s, g, dxp, r0, r1);
        });
      });
    }
  });
  return dx;
}

}  // namespace pynn
