#include "nn.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>

#include "core/parallel.h"
#include "elementwise.h"
#include "kernel_table.h"
#include "linalg.h"
#include "reduce.h"

namespace pynn {
namespace {

void check_logits(const char* op, const Tensor& x) {
  PYNN_CHECK(x.ndim() == 2, op, ": expected 2-D (batch, classes) input, got shape ", x.shape);
  PYNN_CHECK_KIND(TypeError, is_float(x.dtype), op, ": expected float32 or float64 input, got ", dtype_name(x.dtype));
}

// Runs a row kernel (Note [Row kernels]) over a.rows rows, split over threads
// by rows. No checks: the callers check.
void nn_run_rows(RowsKernel kind, const RowsArgs& base, DType dtype) {
  RowsLoop loop = kernels().rows[static_cast<int>(kind)][dtype == DType::Float64 ? 1 : 0];
  int64_t grain = base.cols > 0 ? (kGrainSize + base.cols - 1) / base.cols : base.rows;
  parallel_for(base.rows, grain, [&](int64_t r0, int64_t r1) {
    RowsArgs a = base;
    a.x += r0 * a.x_rs;
    if (a.out) a.out += r0 * a.out_rs;
    if (a.target) a.target += r0 * a.t_rs;
    if (a.loss) a.loss += r0 * a.loss_s;
    a.rows = r1 - r0;
    loop(a);
  });
}

}  // namespace

Tensor nn_softmax_rows(const Tensor& x, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  check_logits(op, x);
  Tensor out = tensor_empty(x.shape, x.dtype);
  if (out.numel() == 0) return out;
  RowsArgs a{};
  a.x = x.data();
  a.x_rs = x.strides[0];
  a.x_cs = x.strides[1];
  a.out = out.data();
  a.out_rs = out.strides[0];
  a.out_cs = out.strides[1];
  a.rows = x.shape[0];
  a.cols = x.shape[1];
  nn_run_rows(log ? RowsKernel::log_softmax : RowsKernel::softmax, a, x.dtype);
  return out;
}

void nn_softmax_xent(const Tensor& logits, const Tensor& target_in, double scale, Tensor* loss, Tensor* grad) {
  const char* op = "softmax_cross_entropy";
  check_logits(op, logits);
  const int64_t n = logits.shape[0], k = logits.shape[1];
  Tensor target = target_in;
  RowsKernel kind;
  if (is_float(target.dtype)) {
    PYNN_CHECK(target.shape == logits.shape, op, ": probability targets of shape ", target.shape,
               " do not match logits of shape ", logits.shape);
    if (target.dtype != logits.dtype) target = ew_astype(target, logits.dtype);
    kind = RowsKernel::xent_probs;
  } else {
    PYNN_CHECK_KIND(TypeError, target.dtype != DType::Bool, op, ": labels must be integers, got bool");
    PYNN_CHECK(target.ndim() == 1 && target.shape[0] == n, op, ": integer labels of shape ", target.shape,
               " do not match logits of shape ", logits.shape, " (expected (", n, ",))");
    if (target.dtype != DType::Int64) target = ew_astype(target, DType::Int64);
    nn_check_labels(op, target, k);
    kind = RowsKernel::xent_labels;
  }
  *loss = tensor_empty(Dims{n}, logits.dtype);
  if (grad) *grad = tensor_empty(logits.shape, logits.dtype);
  if (n == 0 || k == 0) return;
  RowsArgs a{};
  a.x = logits.data();
  a.x_rs = logits.strides[0];
  a.x_cs = logits.strides[1];
  if (grad) {
    a.out = grad->data();
    a.out_rs = grad->strides[0];
    a.out_cs = grad->strides[1];
  }
  a.target = target.data();
  a.t_rs = target.strides[0];
  a.t_cs = target.ndim() == 2 ? target.strides[1] : 0;
  a.loss = loss->data();
  a.loss_s = loss->strides[0];
  a.rows = n;
  a.cols = k;
  a.scale = scale;
  nn_run_rows(kind, a, logits.dtype);
}

namespace {

// How many of p[0, n) are inf or NaN (all exponent bits set), on the bits so
// the loop vectorises.
template <class T>
int64_t count_non_finite(const T* p, int64_t n) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits kExp = sizeof(T) == 4 ? Bits(0x7f800000u) : Bits(0x7ff0000000000000ull);
  const Bits* __restrict b = reinterpret_cast<const Bits*>(p);
  Bits count = 0;
  for (int64_t i = 0; i < n; ++i) count += Bits((b[i] & kExp) == kExp);
  return static_cast<int64_t>(count);
}

// The columns of x (rows x k, unit column stride) with a nonzero (or NaN) in
// some row (Note [Zero input columns]). Written on the bits so the loop
// vectorises: x is nonzero where its bits without the sign are.
template <class T>
std::vector<int64_t> nonzero_columns(const Tensor& x) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits kAbs = sizeof(T) == 4 ? Bits(0x7fffffffu) : Bits(0x7fffffffffffffffull);
  const int64_t rows = x.shape[0], k = x.shape[1];
  const int64_t parts = rows >= 64 ? get_num_threads() : 1;
  std::vector<Bits> seen(static_cast<size_t>(parts * k), 0);
  parallel_for(parts, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      Bits* __restrict f = seen.data() + p * k;
      for (int64_t r = rows * p / parts; r < rows * (p + 1) / parts; ++r) {
        const Bits* __restrict xr = reinterpret_cast<const Bits*>(x.data() + r * x.strides[0]);
        for (int64_t c = 0; c < k; ++c) f[c] |= xr[c] & kAbs;
      }
    }
  });
  std::vector<int64_t> keep;
  keep.reserve(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c) {
    Bits nonzero = 0;
    for (int64_t p = 0; p < parts; ++p) nonzero |= seen[p * k + c];
    if (nonzero) keep.push_back(c);
  }
  return keep;
}

// In one pass over w's rows (k x units, contiguous): dst row i = w row
// keep[i], and the rows left out are checked to be finite. Returns false when
// one holds an inf or NaN (then 0 * w is NaN: the columns must stay).
template <class T>
bool copy_kept_rows(const Tensor& w, const std::vector<int64_t>& keep, const Tensor& dst) {
  const int64_t k = w.shape[0], units = w.shape[1];
  std::vector<int64_t> slot(static_cast<size_t>(k), -1);  // row of dst, -1: left out
  for (size_t i = 0; i < keep.size(); ++i) slot[keep[i]] = static_cast<int64_t>(i);
  std::atomic<bool> finite{true};
  parallel_for(k, (kGrainSize + units - 1) / std::max<int64_t>(units, 1), [&](int64_t r0, int64_t r1) {
    int64_t nonfinite = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const char* src = w.data() + r * w.strides[0];
      if (slot[r] >= 0)
        std::memcpy(dst.data() + slot[r] * dst.strides[0], src, static_cast<size_t>(units * w.elsize()));
      else
        nonfinite += count_non_finite(reinterpret_cast<const T*>(src), units);
    }
    if (nonfinite) finite = false;
  });
  return finite;
}

// dst = src[:, keep] (src with unit column stride, dst contiguous).
template <class T>
void copy_columns(const Tensor& src, const std::vector<int64_t>& keep, const Tensor& dst) {
  const int64_t kk = static_cast<int64_t>(keep.size());
  const int64_t* __restrict idx = keep.data();
  parallel_for(src.shape[0], (kGrainSize + kk - 1) / std::max<int64_t>(kk, 1), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* __restrict s = reinterpret_cast<const T*>(src.data() + r * src.strides[0]);
      T* __restrict d = reinterpret_cast<T*>(dst.data() + r * dst.strides[0]);
      for (int64_t i = 0; i < kk; ++i) d[i] = s[idx[i]];
    }
  });
}

constexpr int64_t kZeroColumnsMinWork = int64_t(1) << 20;  // multiply-adds; below, the scan is not worth it

// Note [Zero input columns], the part forward and dW share: whether dropping
// the zero columns of x (rows x k) from a product with `units` columns pays,
// with the kept columns in *keep; kept_x makes x[:, keep] (take it inside the
// caller's AllocScratch scope: its size depends on the data).
template <class T>
bool kept_columns(const Tensor& x, int64_t units, std::vector<int64_t>* keep) {
  const int64_t rows = x.shape[0], k = x.shape[1];
  if (rows * k * units < kZeroColumnsMinWork || x.strides[1] != x.elsize()) return false;
  *keep = nonzero_columns<T>(x);
  return (k - static_cast<int64_t>(keep->size())) * 8 >= k;
}

template <class T>
Tensor kept_x(const Tensor& x, const std::vector<int64_t>& keep) {
  Tensor xc = tensor_empty(Dims{x.shape[0], static_cast<int64_t>(keep.size())}, x.dtype);
  copy_columns<T>(x, keep, xc);
  return xc;
}

}  // namespace

// The element-wise op of an activation (relu, sigmoid, tanh) and the op of
// its derivative from the output (relu_grad, sigmoid_grad, tanh_grad).
UnaryOp nn_activation_op(Activation act) {
  PYNN_ASSERT(act == Activation::relu || act == Activation::sigmoid || act == Activation::tanh,
              "nn_activation_op: not an element-wise activation");
  return act == Activation::relu ? UnaryOp::relu : act == Activation::sigmoid ? UnaryOp::sigmoid : UnaryOp::tanh;
}

BinaryOp nn_activation_grad_op(Activation act) {
  PYNN_ASSERT(act == Activation::relu || act == Activation::sigmoid || act == Activation::tanh,
              "nn_activation_grad_op: not an element-wise activation");
  return act == Activation::relu      ? BinaryOp::relu_grad
         : act == Activation::sigmoid ? BinaryOp::sigmoid_grad
                                      : BinaryOp::tanh_grad;
}

namespace {

// A GEMM epilogue (Note [GEMM epilogue]) of element-wise loops over each
// finished block of C, row by row: C = unary(binary(C, operand)), either
// loop optional. The operand's rows are operand_rs bytes apart: 0 for a row
// broadcast to every row (a bias), C's own row stride for a matrix (the
// activation output of a derivative). ctx: a const ElementwiseEpilogue*.
// After those, when act is set, a registry activation (Note [Activation
// registry]) writes act(C) into the rows of act_out (act_rs bytes apart) and
// C keeps the pre-activation, which the activation's derivative needs.
struct ElementwiseEpilogue {
  char* c;
  int64_t c_rs, e;  // C's row stride and the element size, bytes
  const char* operand;
  int64_t operand_rs;
  InnerLoop binary;  // (out, c, operand) or null
  InnerLoop unary;   // (out, c) or null
  InnerLoop act = nullptr;  // (act_out, c, act_h) or null
  const double* act_h = nullptr;
  char* act_out = nullptr;
  int64_t act_rs = 0;
};

void nn_elementwise_epilogue(void* ctx, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
  const ElementwiseEpilogue& d = *static_cast<const ElementwiseEpilogue*>(ctx);
  const int64_t s[3] = {d.e, d.e, d.e};
  // Whole rows of a C with adjacent rows: the unary loop runs once over the block (a
  // convolution's narrow rows, 32 filters, would otherwise pay a call per row).
  const bool adjacent = d.unary && j0 == 0 && d.c_rs == cols * d.e;
  for (int64_t r = i0; r < i0 + rows; ++r) {
    char* row = d.c + r * d.c_rs + j0 * d.e;
    if (d.binary) {
      char* p[3] = {row, row, const_cast<char*>(d.operand) + r * d.operand_rs + j0 * d.e};
      d.binary(p, s, cols);
    }
    if (d.unary && !adjacent) {
      char* p[2] = {row, row};
      d.unary(p, s, cols);
    }
    if (d.act) {
      char* p[3] = {d.act_out + r * d.act_rs + j0 * d.e, row, const_cast<char*>(reinterpret_cast<const char*>(d.act_h))};
      const int64_t sa[3] = {d.e, d.e, 0};
      d.act(p, sa, cols);
    }
  }
  if (adjacent) {
    char* block = d.c + i0 * d.c_rs;
    char* p[2] = {block, block};
    d.unary(p, s, rows * cols);
  }
}

}  // namespace

void nn_check_labels(const char* op, const Tensor& labels, int64_t classes) {
  const int64_t n = labels.shape[0], s = labels.strides[0] / 8;
  if (n == 0) return;
  const int64_t* p = reinterpret_cast<const int64_t*>(labels.data());
  int64_t lo = p[0], hi = p[0];
  for (int64_t i = 1; i < n; ++i) lo = std::min(lo, p[i * s]), hi = std::max(hi, p[i * s]);
  PYNN_CHECK(lo >= 0 && hi < classes, op, ": labels must lie in [0, ", classes, "), got values from ", lo, " to ", hi);
}


namespace {

// y = x @ w with the epilogue e, dropping zero columns of x (Note [Zero input columns]).
void dense_gemm(const Tensor& x, const Tensor& w, const Tensor& y, const GemmEpilogue* e) {
  const int64_t units = w.shape[1];
  if (w.is_contiguous()) {
    const bool dropped = dispatch_dtype(x.dtype, [&](auto tag) {  // Note [Zero input columns]
      using T = typename decltype(tag)::type;
      if constexpr (std::is_floating_point_v<T>) {
        std::vector<int64_t> keep;
        if (!kept_columns<T>(x, units, &keep)) return false;
        AllocScratch scratch;  // sized by the data (Note [Captured allocations])
        Tensor wc = tensor_empty(Dims{static_cast<int64_t>(keep.size()), units}, w.dtype);
        if (!copy_kept_rows<T>(w, keep, wc)) return false;
        gemm_2d(kept_x<T>(x, keep), wc, y, false, e);
        return true;
      }
      return false;
    });
    if (dropped) return;
  }
  gemm_2d(x, w, y, false, e);
}

}  // namespace

void nn_dense_into(const Tensor& x, const Tensor& w, const Tensor* b, Activation act, const Tensor& y,
                   bool zero_columns) {
  // The bias (a row of stride 0 added to every row) and the activation,
  // applied to each finished block of y (Note [Dense layer]).
  const int t = static_cast<int>(y.dtype);
  const bool elementwise = act == Activation::relu || act == Activation::sigmoid || act == Activation::tanh;
  const ElementwiseEpilogue d{y.data(), y.strides[0], y.elsize(), b ? b->data() : nullptr, 0,
                              b ? kernels().binary[static_cast<int>(BinaryOp::add)][t] : nullptr,
                              elementwise ? kernels().unary[static_cast<int>(nn_activation_op(act))][t] : nullptr};
  const GemmEpilogue epi{&nn_elementwise_epilogue, const_cast<ElementwiseEpilogue*>(&d)};
  if (zero_columns) dense_gemm(x, w, y, b || elementwise ? &epi : nullptr);
  else gemm_2d(x, w, y, false, b || elementwise ? &epi : nullptr);
}

namespace {

// The checks of the dense forward; the bias made contiguous into *bc when it is not.
const Tensor* check_dense(const Tensor& x, const Tensor& w, const Tensor* b, Tensor* bc) {
  const char* op = "dense";
  PYNN_CHECK(x.ndim() == 2 && w.ndim() == 2, op, ": expected 2-D input and kernel, got ", x.shape, " and ", w.shape);
  PYNN_CHECK_KIND(TypeError, is_float(x.dtype) && x.dtype == w.dtype, op, ": input and kernel must share a float dtype, got ",
                  dtype_name(x.dtype), " and ", dtype_name(w.dtype));
  PYNN_CHECK(x.shape[1] == w.shape[0], op, ": ", x.shape, " @ ", w.shape, ": inner dimensions ", x.shape[1], " and ",
             w.shape[0], " differ");
  const int64_t m = w.shape[1];
  if (b) {
    PYNN_CHECK(b->ndim() == 1 && b->shape[0] == m, op, ": bias of shape ", b->shape, " does not match ", m, " units");
    PYNN_CHECK_KIND(TypeError, b->dtype == x.dtype, op, ": bias must be ", dtype_name(x.dtype), ", got ",
                    dtype_name(b->dtype));
  }
  // the bias must be contiguous for the epilogue's row loops
  if (b && !b->is_contiguous()) *bc = ew_contiguous(*b);
  return b ? (bc->storage ? bc : b) : nullptr;
}

// A GEMM epilogue copying each finished block of C (rows over the kept
// columns) to its rows of dW: C's row i goes to dW's row rows[i].
struct RowScatter {
  const char* part;
  int64_t part_rs;
  char* dst;
  int64_t dst_rs;
  const int64_t* rows;
  int64_t e;
};

void row_scatter_epilogue(void* ctx, int64_t i0, int64_t n, int64_t j0, int64_t cols) {
  const RowScatter& s = *static_cast<const RowScatter*>(ctx);
  for (int64_t r = i0; r < i0 + n; ++r)
    std::memcpy(s.dst + s.rows[r] * s.dst_rs + j0 * s.e, s.part + r * s.part_rs + j0 * s.e,
                static_cast<size_t>(cols * s.e));
}

// dW = x^T dz into dw (k x units, contiguous). Rows of dW whose column of x
// is zero in the whole batch are exactly 0 when dz is finite (Note [Zero input
// columns]): the GEMM runs over the kept columns only, into scratch, and its
// rows are scattered into dW with the others zeroed. Each kept row is the same
// sum as in the full product (its k is the batch, unchanged).
void dense_dw(const Tensor& x, const Tensor& dz, const Tensor& dw) {
  const int64_t k = x.shape[1], units = dz.shape[1];
  if (dz.is_contiguous()) {
    const bool done = dispatch_dtype(x.dtype, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_floating_point_v<T>) {
        std::vector<int64_t> keep;
        if (!kept_columns<T>(x, units, &keep)) return false;
        if (count_non_finite(reinterpret_cast<const T*>(dz.data()), dz.numel()) != 0) return false;
        const int64_t kk = static_cast<int64_t>(keep.size());
        AllocScratch scratch;  // sized by the data (Note [Captured allocations])
        const Tensor xc = kept_x<T>(x, keep);
        // The dropped rows are zeros; the kept ones are copied from the GEMM's blocks by its
        // epilogue, while each block is still in cache (Note [GEMM epilogue]).
        std::vector<int64_t> dropped;
        for (int64_t c = 0, i = 0; c < k; ++c) {
          if (i < kk && keep[i] == c) ++i;
          else dropped.push_back(c);
        }
        const size_t row_bytes = static_cast<size_t>(units * dw.elsize());
        const int64_t nd = static_cast<int64_t>(dropped.size());
        parallel_for(nd, (kGrainSize + units - 1) / std::max<int64_t>(units, 1), [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) std::memset(dw.data() + dropped[r] * dw.strides[0], 0, row_bytes);
        });
        Tensor part = tensor_empty(Dims{kk, units}, x.dtype);
        RowScatter scatter{part.data(), part.strides[0], dw.data(), dw.strides[0], keep.data(), dw.elsize()};
        const GemmEpilogue epi{&row_scatter_epilogue, &scatter};
        gemm_2d(tensor_transpose(xc, {}), dz, part, false, &epi);
        return true;
      }
      return false;
    });
    if (done) return;
  }
  gemm_2d(tensor_transpose(x, {}), dz, dw);
}

// dW = x^T dz, dx = dz W^T, db = the batch sum of dz.
void dense_backward_gemms(const Tensor& dz, const Tensor& x, const Tensor& w, bool need_dx, bool need_db, Tensor* dx,
                          Tensor* dw, Tensor* db) {
  *dw = tensor_empty(w.shape, w.dtype);
  dense_dw(x, dz, *dw);
  if (need_dx) {
    *dx = tensor_empty(x.shape, x.dtype);
    gemm_2d(dz, tensor_transpose(w, {}), *dx);
  }
  if (need_db) *db = reduce(ReduceOp::sum, dz, {0}, false, false);
}

// The params operand of the activation loops: a stride-0 view of h[0..kActParams).
Tensor act_params_view(const double* h, const Dims& shape) {
  Tensor t = tensor_empty(Dims{kActParams}, DType::Float64);
  std::memcpy(t.data(), h, sizeof(double) * kActParams);
  IndexItem first{IndexItem::Int};
  return tensor_broadcast_to("activation", tensor_index(t, {first}), shape);
}

DType act_dtype(DType d) {
  if (is_float(d)) return d;
  return d == DType::Bool || d == DType::UInt8 ? DType::Float32 : DType::Float64;
}

}  // namespace

Tensor nn_dense(const Tensor& x, const Tensor& w, const Tensor* b, Activation act) {
  Tensor bc;
  const Tensor* bp = check_dense(x, w, b, &bc);
  Tensor y = tensor_empty(Dims{x.shape[0], w.shape[1]}, x.dtype);
  nn_dense_into(x, w, bp, act, y);
  return act == Activation::softmax ? nn_softmax_rows(y, false) : y;
}

Tensor nn_dense_act(const Tensor& x, const Tensor& w, const Tensor* b, ActOp op, const double* h, Tensor* z) {
  Tensor bc;
  const Tensor* bp = check_dense(x, w, b, &bc);
  *z = tensor_empty(Dims{x.shape[0], w.shape[1]}, x.dtype);
  Tensor y = tensor_empty(z->shape, x.dtype);
  const int t = static_cast<int>(y.dtype);
  ElementwiseEpilogue d{z->data(), z->strides[0], z->elsize(), bp ? bp->data() : nullptr, 0,
                        bp ? kernels().binary[static_cast<int>(BinaryOp::add)][t] : nullptr, nullptr};
  d.act = kernels().act[static_cast<int>(op)][y.dtype == DType::Float64 ? 1 : 0];
  d.act_h = h;
  d.act_out = y.data();
  d.act_rs = y.strides[0];
  const GemmEpilogue epi{&nn_elementwise_epilogue, &d};
  dense_gemm(x, w, *z, &epi);
  return y;
}

void nn_dense_act_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& z, const Tensor& y,
                           ActOp op, const double* h, bool need_dx, bool need_db, Tensor* dx, Tensor* dw,
                           Tensor* db) {
  PYNN_CHECK(dy.shape == y.shape, "dense backward: gradient of shape ", dy.shape, " for an output of shape ", y.shape);
  Tensor dz = nn_activation_grad(op, dy, z, y, h);
  dense_backward_gemms(dz, x, w, need_dx, need_db, dx, dw, db);
}

Tensor nn_activation(ActOp op, const Tensor& x_in, const double* h) {
  const char* name = act_op_name(op);
  const DType c = act_dtype(x_in.dtype);
  Tensor x = x_in.dtype == c ? x_in : ew_astype(x_in, c);
  Tensor y = tensor_empty_like_layout(x.shape, c, x);
  Tensor hv = act_params_view(h, x.shape);
  InnerLoop loop = kernels().act[static_cast<int>(op)][c == DType::Float64 ? 1 : 0];
  PYNN_CHECK_KIND(TypeError, loop, name, ": unsupported dtype ", dtype_name(c));
  const Tensor* ops[] = {&y, &x, &hv};
  iter_run(iter_make(3, ops, 0), loop, kGrainSize / 4);
  return y;
}

Tensor nn_activation_grad(ActOp op, const Tensor& dy_in, const Tensor& x_in, const Tensor& y_in, const double* h,
                          int order) {
  const char* name = act_op_name(op);
  PYNN_CHECK(order == 1 || order == 2, name, ": derivatives of order ", order, " are not implemented (1 or 2)");
  PYNN_CHECK(x_in.shape == y_in.shape, name, " backward: input of shape ", x_in.shape, " and output of shape ",
             y_in.shape, " differ");
  const DType c = act_dtype(y_in.dtype);
  auto as = [&](const Tensor& t) { return t.dtype == c ? t : ew_astype(t, c); };
  Tensor x = as(x_in), y = as(y_in);
  Tensor dy = tensor_broadcast_to(name, as(dy_in), x.shape);
  Tensor dx = tensor_empty_like_layout(x.shape, c, x);
  Tensor hv = act_params_view(h, x.shape);
  InnerLoop loop = (order == 1 ? kernels().act_grad : kernels().act_grad2)[static_cast<int>(op)][c == DType::Float64 ? 1 : 0];
  const Tensor* ops[] = {&dx, &dy, &x, &y, &hv};
  iter_run(iter_make(5, ops, 0), loop, kGrainSize / 4);
  return dx;
}

void nn_dense_backward(const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y, Activation act,
                       bool need_dx, bool need_db, Tensor* dx, Tensor* dw, Tensor* db) {
  PYNN_CHECK(dy.shape == y.shape, "dense backward: gradient of shape ", dy.shape, " for an output of shape ", y.shape);
  Tensor g = dy.dtype == y.dtype ? dy : ew_astype(dy, y.dtype);
  Tensor dz;
  switch (act) {
    case Activation::linear: dz = g; break;
    case Activation::relu:
    case Activation::sigmoid:
    case Activation::tanh: dz = ew_binary(nn_activation_grad_op(act), g, y, nullptr); break;
    case Activation::softmax: {
      // dz = y * (dy - sum(dy * y) per row)
      Tensor gy = ew_binary(BinaryOp::multiply, g, y, nullptr);
      Tensor rows = reduce(ReduceOp::sum, gy, {1}, false, true);
      if (rows.dtype != y.dtype) rows = ew_astype(rows, y.dtype);
      dz = ew_binary(BinaryOp::multiply, y, ew_binary(BinaryOp::subtract, g, rows, nullptr), nullptr);
      break;
    }
  }
  dense_backward_gemms(dz, x, w, need_dx, need_db, dx, dw, db);
}

}  // namespace pynn

namespace pynn {

// Note [Dropout masks]
// Element i of a dropout mask is kept when hash(key, i) >= rate * 2^32, the
// hash a counter-based mix of the key and the element's C-order index (two
// rounds of 32-bit multiply-xorshift, vectorized per ISA in loops.h): a
// function of the key and the index only, so the mask is the same for any
// thread count and SIMD path, and the backward recomputes it from the key
// instead of storing it. The key is a tensor (a host input of a captured step,
// Note [Captured steps]): a replay reads the key drawn for that step. Kept
// elements are scaled by 1 / (1 - rate) in the tensor's dtype; an inf that is
// dropped gives NaN (inf * 0), as x * mask does in Keras.
Tensor nn_dropout(const Tensor& x, double rate, const Tensor& key) {
  PYNN_CHECK_KIND(TypeError, is_float(x.dtype), "dropout: expected a float tensor, got ", dtype_name(x.dtype));
  PYNN_CHECK(rate >= 0 && rate < 1, "dropout: rate must be in [0, 1), got ", rate);
  PYNN_CHECK_KIND(TypeError, key.dtype == DType::Int64 && key.numel() == 1, "dropout: key must be one int64");
  const Tensor xc = ew_contiguous(x);
  Tensor y = tensor_empty(x.shape, x.dtype);
  const uint64_t k = static_cast<uint64_t>(*reinterpret_cast<const int64_t*>(key.data()));
  const uint32_t threshold = static_cast<uint32_t>(std::min(rate * 4294967296.0, 4294967295.0));
  const double scale = 1.0 / (1.0 - rate);
  const DropoutLoop loop = kernels().dropout[x.dtype == DType::Float64 ? 1 : 0];
  const int64_t e = x.elsize();
  parallel_for(x.numel(), kGrainSize, [&](int64_t b, int64_t end) {
    loop(y.data() + b * e, xc.data() + b * e, b, end - b, k, threshold, scale);
  });
  return y;
}

}  // namespace pynn
