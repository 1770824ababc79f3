#include "conv.h"

#include <cstring>
#include <type_traits>

#include "core/parallel.h"
#include "elementwise.h"
#include "linalg.h"
#include "reduce.h"

namespace pynn {
namespace {

// The sizes of one convolution (Note [Convolution]).
struct ConvSizes {
  int64_t n, h, w, c;   // input
  int64_t kh, kw, cg;   // kernel; cg = C / groups
  int64_t f, groups, fg;  // filters, groups, filters per group
  int64_t k;            // KH * KW * cg: a group's patch length
  int64_t rows;         // N * OH * OW
};

ConvSizes check_conv(const char* op, const Dims& xs, DType xd, const Tensor& w, const ConvGeom& g) {
  PYNN_CHECK(xs.n == 4, op, ": expected a 4-D (batch, height, width, channels) input, got shape ", xs);
  PYNN_CHECK(w.ndim() == 4, op, ": expected a 4-D (height, width, in_channels, filters) kernel, got shape ", w.shape);
  PYNN_CHECK_KIND(TypeError, is_float(xd) && w.dtype == xd, op, ": input and kernel must share a float dtype, got ",
                  dtype_name(xd), " and ", dtype_name(w.dtype));
  ConvSizes s{};
  s.n = xs[0], s.h = xs[1], s.w = xs[2], s.c = xs[3];
  s.kh = w.shape[0], s.kw = w.shape[1], s.cg = w.shape[2], s.f = w.shape[3];
  PYNN_CHECK(s.cg > 0 && s.c % s.cg == 0, op, ": input channels ", s.c, " (input shape ", xs,
             ") are not a multiple of the kernel's ", s.cg, " (kernel shape ", w.shape, ")");
  s.groups = s.c / s.cg;
  PYNN_CHECK(s.f % s.groups == 0, op, ": ", s.f, " filters (kernel shape ", w.shape, ") do not split into ", s.groups,
             " groups");
  PYNN_CHECK(s.kh > 0 && s.kw > 0, op, ": empty kernel of shape ", w.shape);
  PYNN_CHECK(g.sh > 0 && g.sw > 0 && g.dh > 0 && g.dw > 0, op, ": strides and dilations must be positive, got (",
             g.sh, ", ", g.sw, ") and (", g.dh, ", ", g.dw, ")");
  PYNN_CHECK(g.pt >= 0 && g.pl >= 0 && g.oh >= 0 && g.ow >= 0, op, ": bad geometry: pads (", g.pt, ", ", g.pl,
             "), output size (", g.oh, ", ", g.ow, ")");
  s.fg = s.f / s.groups;
  s.k = s.kh * s.kw * s.cg;
  s.rows = s.n * g.oh * g.ow;
  return s;
}

// A 2-D view of t's memory: rows x cols from element offset off, strides in elements.
Tensor view2d(const Tensor& t, int64_t off, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  Tensor v = t;
  const int64_t e = t.elsize();
  v.offset += off * e;
  v.shape = Dims{rows, cols};
  v.strides = Dims{rs * e, cs * e};
  return v;
}

// The kernel as a contiguous (KH * KW * cg, F) matrix.
Tensor kernel_matrix(const Tensor& w, const ConvSizes& s) {
  const Tensor wc = ew_contiguous(w);
  return view2d(wc, 0, s.k, s.f, s.f, 1);
}

// The 1x1 path (Note [Convolution]): x's rows are the patches.
bool rows_are_patches(const Tensor& x, const ConvSizes& s, const ConvGeom& g) {
  return s.kh == 1 && s.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == s.h && g.ow == s.w &&
         x.is_contiguous();
}

// The patches of output rows [r0, r1) (whole output lines or not) into out, row r0 first.
template <class T>
void im2col(const Tensor& x, const ConvSizes& s, const ConvGeom& g, int64_t r0, int64_t r1, T* out) {
  const int64_t e = sizeof(T), gk = s.groups * s.k;
  const int64_t xs0 = x.strides[0], xs1 = x.strides[1], xs2 = x.strides[2], xs3 = x.strides[3];
  const char* base = x.data();
  const bool unit_c = xs3 == e;
  // One group, no dilation along W and rows of x contiguous over (W, C): a kernel row's taps are adjacent.
  const bool spans = s.groups == 1 && g.dw == 1 && unit_c && xs2 == s.c * e;
  parallel_for(r1 - r0, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(gk, 1)), [&](int64_t a, int64_t b) {
    int64_t r = r0 + a;
    int64_t n = r / (g.oh * g.ow), oy = r / g.ow % g.oh, ox = r % g.ow;  // stepped below, no more divisions
    for (; r < r0 + b; ++r) {
      T* row = out + (r - r0) * gk;
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t iy = oy * g.sh - g.pt + i * g.dh;
        const int64_t ix0 = ox * g.sw - g.pl;
        if (spans && iy >= 0 && iy < s.h && ix0 >= 0 && ix0 + s.kw <= s.w) {
          // The kernel row's taps are one run of KW * C inputs (Note [Convolution]: the (i, j, c) order).
          const T* __restrict src = reinterpret_cast<const T*>(base + n * xs0 + iy * xs1 + ix0 * xs2);
          T* __restrict dst = row + i * s.kw * s.c;
          for (int64_t q = 0; q < s.kw * s.c; ++q) dst[q] = src[q];
          continue;
        }
        for (int64_t j = 0; j < s.kw; ++j) {
          const int64_t ix = ox * g.sw - g.pl + j * g.dw;
          T* dst = row + (i * s.kw + j) * s.cg;
          if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) {
            for (int64_t q = 0; q < s.groups; ++q)
              for (int64_t c = 0; c < s.cg; ++c) dst[q * s.k + c] = T(0);
            continue;
          }
          const char* src = base + n * xs0 + iy * xs1 + ix * xs2;
          for (int64_t q = 0; q < s.groups; ++q) {
            T* __restrict dq = dst + q * s.k;
            if (unit_c) {
              const T* __restrict sq = reinterpret_cast<const T*>(src) + q * s.cg;
              for (int64_t c = 0; c < s.cg; ++c) dq[c] = sq[c];
            } else {
              const char* sq = src + q * s.cg * xs3;
              for (int64_t c = 0; c < s.cg; ++c) dq[c] = *reinterpret_cast<const T*>(sq + c * xs3);
            }
          }
        }
      }
      if (++ox == g.ow) {
        ox = 0;
        if (++oy == g.oh) oy = 0, ++n;
      }
    }
  });
}

// Images [n0, n1) of dx (contiguous (N, H, W, C)) = the sum of each row of cols (the
// product's rows of those images, the first image's first) over the inputs its position read.
template <class T>
void col2im(const T* cols, const ConvSizes& s, const ConvGeom& g, int64_t n0, int64_t n1, const Tensor& dx) {
  const int64_t gk = s.groups * s.k, image = s.h * s.w * s.c;
  const bool spans = s.groups == 1 && g.dw == 1;
  T* out = reinterpret_cast<T*>(dx.data());
  for (int64_t n = n0; n < n1; ++n) {
    T* img = out + n * image;
    std::memset(img, 0, static_cast<size_t>(image) * sizeof(T));
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const T* row = cols + (((n - n0) * g.oh + oy) * g.ow + ox) * gk;
        for (int64_t i = 0; i < s.kh; ++i) {
          const int64_t iy = oy * g.sh - g.pt + i * g.dh;
          if (iy < 0 || iy >= s.h) continue;
          const int64_t ix0 = ox * g.sw - g.pl;
          if (spans && ix0 >= 0 && ix0 + s.kw <= s.w) {  // the kernel row's taps are one run, as in im2col
            T* __restrict d = img + (iy * s.w + ix0) * s.c;
            const T* __restrict src = row + i * s.kw * s.c;
            for (int64_t q = 0; q < s.kw * s.c; ++q) d[q] += src[q];
            continue;
          }
          for (int64_t j = 0; j < s.kw; ++j) {
            const int64_t ix = ox * g.sw - g.pl + j * g.dw;
            if (ix < 0 || ix >= s.w) continue;
            T* __restrict d = img + (iy * s.w + ix) * s.c;
            const T* __restrict src = row + (i * s.kw + j) * s.cg;
            for (int64_t q = 0; q < s.groups; ++q)
              for (int64_t c = 0; c < s.cg; ++c) d[q * s.cg + c] += src[q * s.k + c];
          }
        }
      }
    }
  }
}

// Note [Convolution blocks]
// The work is cut into blocks of whole images, as many per block as keep a
// block's patches near kBlockBytes (one image when an image is larger), so a
// block's patches are written by im2col and read by its GEMM while they are
// still in L2, and never go to memory. The cut depends on the shapes only:
// the per-block partial sums of dW and db are added in block order, so the
// result is the same for any thread count. With at least as many blocks as
// threads, the blocks run in parallel, each on one thread (its GEMM then runs
// single-threaded); with fewer (a small batch), they run one after the other
// and each GEMM and im2col is parallel inside.
constexpr int64_t kBlockBytes = int64_t(256) << 10;
// dW's partials take at most this many elements: past it, blocks are grouped
// into fewer partials (each a run of consecutive blocks).
constexpr int64_t kPartialBudget = int64_t(8) << 20;

struct Blocks {
  int64_t per;     // images per block
  int64_t count;   // blocks
  int64_t rows;    // output rows of a full block
};

Blocks image_blocks(const ConvSizes& s, const ConvGeom& g, int64_t elsize) {
  const int64_t img_rows = g.oh * g.ow;
  const int64_t img_bytes = std::max<int64_t>(1, img_rows * s.groups * s.k * elsize);
  const int64_t per = std::max<int64_t>(1, std::min<int64_t>(std::max<int64_t>(s.n, 1), kBlockBytes / img_bytes));
  return Blocks{per, (s.n + per - 1) / per, per * img_rows};
}

// How many workers run `units` blocks: all threads when there are at least as
// many units as threads, else 1 (the ops inside each unit then run in parallel).
int64_t unit_workers(int64_t units) {
  const int nt = in_parallel_region() ? 1 : get_num_threads();
  return units >= nt ? nt : 1;
}

// Runs body(unit, worker) for unit in [0, units), each worker a run of consecutive units.
template <class F>
void for_units(int64_t units, int64_t workers, const F& body) {
  if (workers <= 1) {
    for (int64_t u = 0; u < units; ++u) body(u, int64_t{0});
    return;
  }
  parallel_for(workers, 1, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; ++w)
      for (int64_t u = units * w / workers; u < units * (w + 1) / workers; ++u) body(u, w);
  });
}

// dz = dy * act'(y) for rows [r0, r1) (contiguous (rows, F) operands).
template <class T>
void dz_rows(const T* dy, const T* y, T* dz, int64_t r0, int64_t r1, int64_t f, Activation act) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* __restrict a = dy + r * f;
    const T* __restrict o = y + r * f;
    T* __restrict d = dz + (r - r0) * f;
    switch (act) {
      case Activation::relu:
        for (int64_t c = 0; c < f; ++c) {
          const T g = a[c];  // loaded either way, so the select vectorises
          d[c] = o[c] > T(0) ? g : T(0);
        }
        break;
      case Activation::sigmoid:
        for (int64_t c = 0; c < f; ++c) d[c] = a[c] * (o[c] * (T(1) - o[c]));
        break;
      case Activation::tanh:
        for (int64_t c = 0; c < f; ++c) d[c] = a[c] * (T(1) - o[c] * o[c]);
        break;
      default:
        for (int64_t c = 0; c < f; ++c) d[c] = a[c];
    }
  }
}

// The column sums of a (rows, F) contiguous block added into colsum (double), row by row.
template <class T>
void add_column_sums(const T* d, int64_t rows, int64_t f, double* colsum) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < f; ++c) colsum[c] += static_cast<double>(d[r * f + c]);
}

Tensor zeros(const Dims& shape, DType d) {
  Tensor t = tensor_empty(shape, d);
  if (t.numel()) std::memset(t.data(), 0, static_cast<size_t>(t.numel() * t.elsize()));
  return t;
}

Tensor as_dtype(const Tensor& t, DType d) { return t.dtype == d ? t : ew_astype(t, d); }

// One group's slice of a (rows, F)-shaped block view: rows x fg from column q * fg.
Tensor group_cols(const Tensor& t, int64_t q, int64_t width, int64_t row_stride, int64_t rows) {
  return view2d(t, q * width, rows, width, row_stride, 1);
}

// The whole backward of one convolution, by blocks (Note [Convolution blocks]).
// dy: contiguous (rows, F) in the dtype; y: the forward's output (for act').
template <class T>
void conv_backward_blocks(const Tensor& dy, const Tensor* y, const Tensor& x, const Tensor& w2, const ConvSizes& s,
                          const ConvGeom& g, Activation act, bool need_dx, bool need_dw, bool need_db, Tensor* dx,
                          Tensor* dw, Tensor* db, const Dims& w_shape) {
  const DType dt = dy.dtype;
  if (s.rows == 0) {  // no output positions: every gradient is zero
    if (need_dx) *dx = zeros(x.shape, dt);
    if (need_dw) *dw = zeros(w_shape, dt);
    if (need_db) *db = zeros(Dims{s.f}, dt);
    return;
  }
  const int64_t gk = s.groups * s.k, img_rows = g.oh * g.ow;
  const Blocks bl = image_blocks(s, g, sizeof(T));
  const bool rows_path = rows_are_patches(x, s, g);
  // dW and db partials: `parts` runs of consecutive blocks (Note [Convolution blocks]).
  const int64_t parts = std::max<int64_t>(
      1, std::min<int64_t>(bl.count, need_dw ? kPartialBudget / std::max<int64_t>(1, s.k * s.f) : bl.count));
  Tensor dw_parts = need_dw ? tensor_empty(Dims{parts, s.k, s.f}, dt) : Tensor{};
  std::vector<double> db_parts(need_db ? static_cast<size_t>(parts * s.f) : 0, 0.0);
  // The results first: what is allocated inside the AllocScratch scope below is not handed back on replay.
  if (need_dx) *dx = tensor_empty(x.shape, dt);
  if (need_dw) *dw = tensor_empty(w_shape, dt);
  if (need_db) *db = tensor_empty(Dims{s.f}, dt);
  const bool fold = act != Activation::linear;
  const int64_t workers = unit_workers(parts);
  AllocScratch scratch;  // per worker (Note [Captured allocations])
  Tensor pbuf = need_dw && !rows_path ? tensor_empty(Dims{workers, bl.rows * gk}, dt) : Tensor{};
  Tensor zbuf = fold ? tensor_empty(Dims{workers, bl.rows * s.f}, dt) : Tensor{};
  Tensor cbuf = need_dx && !rows_path ? tensor_empty(Dims{workers, bl.rows * gk}, dt) : Tensor{};
  for_units(parts, workers, [&](int64_t part, int64_t wk) {
    const int64_t b0 = bl.count * part / parts, b1 = bl.count * (part + 1) / parts;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n0 = b * bl.per, n1 = std::min(s.n, n0 + bl.per);
      const int64_t r0 = n0 * img_rows, rows = (n1 - n0) * img_rows;
      // dz of the block, with the bias gradient's column sums
      Tensor dzb = view2d(dy, r0 * s.f, rows, s.f, s.f, 1);
      double* cs = need_db ? db_parts.data() + part * s.f : nullptr;
      if (fold) {
        Tensor z = view2d(zbuf, wk * bl.rows * s.f, rows, s.f, s.f, 1);
        dz_rows<T>(reinterpret_cast<const T*>(dy.data()), reinterpret_cast<const T*>(y->data()),
                   reinterpret_cast<T*>(z.data()), r0, r0 + rows, s.f, act);
        dzb = z;
      }
      if (cs) add_column_sums<T>(reinterpret_cast<const T*>(dzb.data()), rows, s.f, cs);  // the block is in cache
      if (need_dw) {
        Tensor p;
        if (rows_path) {
          p = view2d(x, r0 * s.c, rows, s.c, s.c, 1);
        } else {
          p = view2d(pbuf, wk * bl.rows * gk, rows, gk, gk, 1);
          im2col<T>(x, s, g, r0, r0 + rows, reinterpret_cast<T*>(p.data()));
        }
        const Tensor part_w = view2d(dw_parts, part * s.k * s.f, s.k, s.f, s.f, 1);
        for (int64_t q = 0; q < s.groups; ++q)
          gemm_2d(view2d(p, q * s.k, s.k, rows, 1, gk), group_cols(dzb, q, s.fg, s.f, rows),
                  group_cols(part_w, q, s.fg, s.f, s.k), b > b0);
      }
      if (need_dx) {
        const Tensor c = rows_path ? view2d(*dx, r0 * s.c, rows, s.c, s.c, 1)
                                   : view2d(cbuf, wk * bl.rows * gk, rows, gk, gk, 1);
        for (int64_t q = 0; q < s.groups; ++q)
          gemm_2d(group_cols(dzb, q, s.fg, s.f, rows), view2d(w2, q * s.fg, s.fg, s.k, 1, s.f),
                  view2d(c, q * s.k, rows, s.k, gk, 1));
        if (!rows_path) col2im<T>(reinterpret_cast<const T*>(c.data()), s, g, n0, n1, *dx);
      }
    }
  });
  if (need_db) {
    T* o = reinterpret_cast<T*>(db->data());
    for (int64_t c = 0; c < s.f; ++c) {
      double acc = 0;
      for (int64_t p = 0; p < parts; ++p) acc += db_parts[p * s.f + c];
      o[c] = static_cast<T>(acc);
    }
  }
  if (need_dw) {
    const int64_t kf = s.k * s.f;
    const T* src = reinterpret_cast<const T*>(dw_parts.data());
    T* o = reinterpret_cast<T*>(dw->data());
    // Each range of dW's elements sums the partials in order, one partial at a time (sequential reads).
    parallel_for(kf, kGrainSize, [&](int64_t i0, int64_t i1) {
      std::vector<double> acc(static_cast<size_t>(i1 - i0), 0.0);
      for (int64_t p = 0; p < parts; ++p) {
        const T* __restrict sp = src + p * kf + i0;
        for (int64_t i = 0; i < i1 - i0; ++i) acc[i] += static_cast<double>(sp[i]);
      }
      for (int64_t i = i0; i < i1; ++i) o[i] = static_cast<T>(acc[i - i0]);
    });
  }
}

}  // namespace

Tensor nn_conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const ConvGeom& g, Activation act) {
  const char* op = "conv2d";
  const ConvSizes s = check_conv(op, x.shape, x.dtype, w, g);
  PYNN_CHECK(act != Activation::softmax, op, ": softmax is not fused into a convolution");
  Tensor bc;
  if (b) {
    PYNN_CHECK(b->ndim() == 1 && b->shape[0] == s.f, op, ": bias of shape ", b->shape, " does not match ", s.f,
               " filters");
    PYNN_CHECK_KIND(TypeError, b->dtype == x.dtype, op, ": bias must be ", dtype_name(x.dtype), ", got ",
                    dtype_name(b->dtype));
    bc = ew_contiguous(*b);
  }
  Tensor y = tensor_empty(Dims{s.n, g.oh, g.ow, s.f}, x.dtype);
  if (y.numel() == 0) return y;
  const Tensor w2 = kernel_matrix(w, s);
  const bool rows_path = rows_are_patches(x, s, g);
  const int64_t gk = s.groups * s.k, img_rows = g.oh * g.ow;
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      const Blocks bl = image_blocks(s, g, sizeof(T));
      const int64_t workers = unit_workers(bl.count);
      AllocScratch scratch;  // per worker (Note [Captured allocations])
      Tensor pbuf = rows_path ? Tensor{} : tensor_empty(Dims{workers, bl.rows * gk}, x.dtype);
      for_units(bl.count, workers, [&](int64_t blk, int64_t wk) {
        const int64_t n0 = blk * bl.per, n1 = std::min(s.n, n0 + bl.per);
        const int64_t r0 = n0 * img_rows, rows = (n1 - n0) * img_rows;
        Tensor p;
        if (rows_path) {
          p = view2d(x, r0 * s.c, rows, s.c, s.c, 1);
        } else {
          p = view2d(pbuf, wk * bl.rows * gk, rows, gk, gk, 1);
          im2col<T>(x, s, g, r0, r0 + rows, reinterpret_cast<T*>(p.data()));
        }
        for (int64_t q = 0; q < s.groups; ++q) {
          Tensor bq;
          if (b) {
            bq = bc;
            bq.offset += q * s.fg * bc.elsize();
            bq.shape = Dims{s.fg};
          }
          nn_dense_into(view2d(p, q * s.k, rows, s.k, gk, 1), view2d(w2, q * s.fg, s.k, s.fg, s.f, 1),
                        b ? &bq : nullptr, act, view2d(y, r0 * s.f + q * s.fg, rows, s.fg, s.f, 1), false);
        }
      });
    }
  });
  return y;
}

namespace {

// The backward's shared entry: dy as contiguous (rows, F) in the dtype, then the blocks.
void conv_backward(const char* op, const Tensor& dy, const Tensor* y, const Tensor& x, const Tensor& w2,
                   const ConvSizes& s, const ConvGeom& g, Activation act, bool need_dx, bool need_dw, bool need_db,
                   Tensor* dx, Tensor* dw, Tensor* db, const Dims& w_shape) {
  const Dims want{s.n, g.oh, g.ow, s.f};
  PYNN_CHECK(dy.shape == want, op, ": gradient of shape ", dy.shape, " does not match the output shape ", want);
  PYNN_CHECK_KIND(TypeError, is_float(dy.dtype), op, ": expected a float gradient, got ", dtype_name(dy.dtype));
  const Tensor dyc = ew_contiguous(as_dtype(dy, x.dtype));
  const Tensor dy2 = view2d(dyc, 0, s.rows, s.f, s.f, 1);
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>)
      conv_backward_blocks<T>(dy2, y, x, w2, s, g, act, need_dx, need_dw, need_db, dx, dw, db, w_shape);
  });
}

}  // namespace

void nn_conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y, const ConvGeom& g, Activation act, bool need_dx, bool need_dw, bool need_db, Tensor* dx,
                        Tensor* dw, Tensor* db) {
  const char* op = "conv2d backward";
  const ConvSizes s = check_conv(op, x.shape, x.dtype, w, g);
  PYNN_CHECK(dy.shape == y.shape, op, ": gradient of shape ", dy.shape, " for an output of shape ", y.shape);
  PYNN_CHECK(act != Activation::softmax, op, ": softmax is not fused into a convolution");
  const Tensor yc = act == Activation::linear ? y : ew_contiguous(y);
  conv_backward(op, dy, &yc, x, kernel_matrix(w, s), s, g, act, need_dx, need_dw, need_db, dx, dw, db, w.shape);
}

Tensor nn_conv2d_input_grad(const Tensor& dz, const Tensor& w, const ConvGeom& g, const Dims& x_shape) {
  const char* op = "conv2d input_grad";
  const ConvSizes s = check_conv(op, x_shape, w.dtype, w, g);
  // A stand-in x of the right shape: the backward reads only its shape when dW is not asked for.
  Tensor xs = tensor_empty(Dims{0}, w.dtype);
  xs.shape = x_shape;
  xs.strides = Dims{0, 0, 0, 0};
  Tensor dx;
  conv_backward(op, dz, nullptr, xs, kernel_matrix(w, s), s, g, Activation::linear, true, false, false, &dx, nullptr,
                nullptr, w.shape);
  return dx;
}

Tensor nn_conv2d_kernel_grad(const Tensor& x, const Tensor& dz, const ConvGeom& g, const Dims& w_shape) {
  const char* op = "conv2d kernel_grad";
  PYNN_CHECK(w_shape.n == 4, op, ": expected a 4-D kernel shape, got ", w_shape);
  // check_conv reads only the kernel's shape and dtype: a shape-only stand-in.
  Tensor ws;
  ws.shape = w_shape;
  ws.dtype = x.dtype;
  const ConvSizes s = check_conv(op, x.shape, x.dtype, ws, g);
  Tensor dw;
  conv_backward(op, dz, nullptr, x, Tensor{}, s, g, Activation::linear, false, true, false, nullptr, &dw, nullptr,
                w_shape);
  return dw;
}

}  // namespace pynn
