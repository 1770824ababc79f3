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

template <class T>
void im2col(const Tensor& x, const ConvSizes& s, const ConvGeom& g, T* out) {
  const int64_t e = sizeof(T), gk = s.groups * s.k;
  const int64_t xs0 = x.strides[0], xs1 = x.strides[1], xs2 = x.strides[2], xs3 = x.strides[3];
  const char* base = x.data();
  const bool unit_c = xs3 == e;
  parallel_for(s.rows, std::max<int64_t>(1, kGrainSize / std::max<int64_t>(gk, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t n = r / (g.oh * g.ow), oy = r / g.ow % g.oh, ox = r % g.ow;
      T* row = out + r * gk;
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t iy = oy * g.sh - g.pt + i * g.dh;
        for (int64_t j = 0; j < s.kw; ++j) {
          const int64_t ix = ox * g.sw - g.pl + j * g.dw;
          T* dst = row + (i * s.kw + j) * s.cg;
          if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) {
            for (int64_t q = 0; q < s.groups; ++q) std::memset(dst + q * s.k, 0, static_cast<size_t>(s.cg * e));
            continue;
          }
          const char* src = base + n * xs0 + iy * xs1 + ix * xs2;
          for (int64_t q = 0; q < s.groups; ++q) {
            const char* sq = src + q * s.cg * xs3;
            T* dq = dst + q * s.k;
            if (unit_c) {
              std::memcpy(dq, sq, static_cast<size_t>(s.cg * e));
            } else {
              for (int64_t c = 0; c < s.cg; ++c) dq[c] = *reinterpret_cast<const T*>(sq + c * xs3);
            }
          }
        }
      }
    }
  });
}

// dx (contiguous (N, H, W, C)) = the sum of each row of cols over the inputs its position read.
template <class T>
void col2im(const T* cols, const ConvSizes& s, const ConvGeom& g, const Tensor& dx) {
  const int64_t gk = s.groups * s.k, image = s.h * s.w * s.c;
  T* out = reinterpret_cast<T*>(dx.data());
  parallel_for(s.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      T* img = out + n * image;
      std::memset(img, 0, static_cast<size_t>(image) * sizeof(T));
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const T* row = cols + ((n * g.oh + oy) * g.ow + ox) * gk;
          for (int64_t i = 0; i < s.kh; ++i) {
            const int64_t iy = oy * g.sh - g.pt + i * g.dh;
            if (iy < 0 || iy >= s.h) continue;
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
  });
}

// The patches of x: its rows on the 1x1 path, else a new (rows, G*K) im2col matrix.
Tensor patches_of(const Tensor& x, const ConvSizes& s, const ConvGeom& g) {
  if (rows_are_patches(x, s, g)) return view2d(x, 0, s.rows, s.c, s.c, 1);
  Tensor p = tensor_empty(Dims{s.rows, s.groups * s.k}, x.dtype);
  if (p.numel() == 0) return p;
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) im2col<T>(x, s, g, reinterpret_cast<T*>(p.data()));
  });
  return p;
}

// dW = patches^T dz per group, into a new tensor of the kernel's shape.
Tensor kernel_grad_from(const Tensor& patches, const Tensor& dz2, const ConvSizes& s, const Dims& w_shape, DType dt) {
  Tensor dw = tensor_empty(w_shape, dt);
  const int64_t gk = s.groups * s.k;
  for (int64_t q = 0; q < s.groups; ++q) {
    const Tensor pq = view2d(patches, q * s.k, s.k, s.rows, 1, gk);  // the group's patches, transposed
    gemm_2d(pq, view2d(dz2, q * s.fg, s.rows, s.fg, s.f, 1), view2d(dw, q * s.fg, s.k, s.fg, s.f, 1));
  }
  return dw;
}

// dx = col2im(dz W^T) into a new (N, H, W, C) tensor.
Tensor input_grad_from(const Tensor& dz2, const Tensor& w2, const ConvSizes& s, const ConvGeom& g, const Dims& x_shape,
                       bool rows_path) {
  Tensor dx = tensor_empty(x_shape, dz2.dtype);
  if (dx.numel() == 0) return dx;
  const int64_t gk = s.groups * s.k;
  // On the 1x1 path dx's rows are the product's rows; else the product goes to scratch for col2im.
  Tensor cols = rows_path ? dx : tensor_empty(Dims{s.rows, gk}, dz2.dtype);
  for (int64_t q = 0; q < s.groups; ++q) {
    const Tensor wq_t = view2d(w2, q * s.fg, s.fg, s.k, 1, s.f);  // the group's kernel, transposed
    gemm_2d(view2d(dz2, q * s.fg, s.rows, s.fg, s.f, 1), wq_t, view2d(cols, q * s.k, s.rows, s.k, gk, 1));
  }
  if (!rows_path) {
    dispatch_dtype(dx.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_floating_point_v<T>) col2im<T>(reinterpret_cast<const T*>(cols.data()), s, g, dx);
    });
  }
  return dx;
}

Tensor as_dtype(const Tensor& t, DType d) { return t.dtype == d ? t : ew_astype(t, d); }

}  // namespace

Tensor nn_conv2d(const Tensor& x, const Tensor& w, const Tensor* b, const ConvGeom& g, Activation act,
                 Tensor* patches) {
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
  const Tensor p = patches_of(x, s, g);
  if (patches) *patches = p;
  if (y.numel() == 0) return y;
  const Tensor w2 = kernel_matrix(w, s);
  const int64_t gk = p.shape[1];
  for (int64_t q = 0; q < s.groups; ++q) {
    Tensor bq;
    if (b) {
      bq = bc;
      bq.offset += q * s.fg * bc.elsize();
      bq.shape = Dims{s.fg};
    }
    nn_dense_into(view2d(p, q * s.k, s.rows, s.k, gk, 1), view2d(w2, q * s.fg, s.k, s.fg, s.f, 1), b ? &bq : nullptr,
                  act, view2d(y, q * s.fg, s.rows, s.fg, s.f, 1), false);
  }
  return y;
}

void nn_conv2d_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y, const Tensor& patches,
                        const ConvGeom& g, Activation act, bool need_dx, bool need_dw, bool need_db, Tensor* dx,
                        Tensor* dw, Tensor* db) {
  const char* op = "conv2d backward";
  const ConvSizes s = check_conv(op, x.shape, x.dtype, w, g);
  PYNN_CHECK(dy.shape == y.shape, op, ": gradient of shape ", dy.shape, " for an output of shape ", y.shape);
  const Tensor gy = as_dtype(dy, y.dtype);
  Tensor dz;
  switch (act) {
    case Activation::linear: dz = ew_contiguous(gy); break;
    case Activation::relu:
    case Activation::sigmoid:
    case Activation::tanh:
      dz = ew_contiguous(ew_binary(nn_activation_grad_op(act), gy, y, nullptr));
      break;
    case Activation::softmax: PYNN_CHECK(false, op, ": softmax is not fused into a convolution");
  }
  const Tensor dz2 = view2d(dz, 0, s.rows, s.f, s.f, 1);
  if (need_db) *db = reduce(ReduceOp::sum, dz2, {0}, false, false);
  if (need_dw) *dw = kernel_grad_from(patches.storage ? patches : patches_of(x, s, g), dz2, s, w.shape, x.dtype);
  if (need_dx) *dx = input_grad_from(dz2, kernel_matrix(w, s), s, g, x.shape, rows_are_patches(x, s, g));
}

Tensor nn_conv2d_input_grad(const Tensor& dz, const Tensor& w, const ConvGeom& g, const Dims& x_shape) {
  const char* op = "conv2d input_grad";
  const ConvSizes s = check_conv(op, x_shape, w.dtype, w, g);
  const Dims want{s.n, g.oh, g.ow, s.f};
  PYNN_CHECK(dz.shape == want, op, ": gradient of shape ", dz.shape, " does not match the output shape ", want);
  const Tensor dzc = ew_contiguous(as_dtype(dz, w.dtype));
  // The 1x1 path holds for any x of this shape: dx is new and contiguous.
  const bool rows_path = s.kh == 1 && s.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == s.h &&
                         g.ow == s.w;
  return input_grad_from(view2d(dzc, 0, s.rows, s.f, s.f, 1), kernel_matrix(w, s), s, g, x_shape, rows_path);
}

Tensor nn_conv2d_kernel_grad(const Tensor& x, const Tensor& dz, const ConvGeom& g, const Dims& w_shape) {
  const char* op = "conv2d kernel_grad";
  PYNN_CHECK(w_shape.n == 4, op, ": expected a 4-D kernel shape, got ", w_shape);
  // check_conv reads only the kernel's shape and dtype: a shape-only stand-in.
  Tensor ws;
  ws.shape = w_shape;
  ws.dtype = x.dtype;
  const ConvSizes s = check_conv(op, x.shape, x.dtype, ws, g);
  const Dims want{s.n, g.oh, g.ow, s.f};
  PYNN_CHECK(dz.shape == want, op, ": gradient of shape ", dz.shape, " does not match the output shape ", want);
  const Tensor dzc = ew_contiguous(as_dtype(dz, x.dtype));
  return kernel_grad_from(patches_of(x, s, g), view2d(dzc, 0, s.rows, s.f, s.f, 1), s, w_shape, x.dtype);
}

}  // namespace pynn
