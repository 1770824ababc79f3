// norm.cpp: batch normalization forward and backward (Note [Batch norm] in norm.h).
#include "norm.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/parallel.h"
#include "elementwise.h"
#include "kernel_table.h"

namespace pynn {
namespace {

// x seen as (outer, C, inner): C features, `inner` contiguous elements per
// (row, feature), `outer` rows.
struct NormShape {
  int64_t outer, c, inner;
  int64_t n() const { return outer * inner; }  // elements per feature
  int64_t numel() const { return outer * c * inner; }
};

NormShape norm_shape(const Tensor& x, int axis) {
  NormShape s{1, x.shape[axis], 1};
  for (int d = 0; d < axis; ++d) s.outer *= x.shape[d];
  for (int d = axis + 1; d < x.ndim(); ++d) s.inner *= x.shape[d];
  return s;
}

// A (C,) argument: x's dtype and shape (C,), any stride.
void check_feature_arg(const char* what, const Tensor& t, const Tensor& x, int axis) {
  PYNN_CHECK_KIND(TypeError, t.dtype == x.dtype, "batch_norm: ", what, " is ", dtype_name(t.dtype), " but x is ",
                  dtype_name(x.dtype), "; they must match");
  PYNN_CHECK(t.ndim() == 1 && t.shape[0] == x.shape[axis], "batch_norm: ", what, " has shape ", t.shape,
             ", expected (", x.shape[axis], ",): the size of axis ", axis, " of x with shape ", x.shape);
}

// Element c of a (C,) tensor of type T, as double.
template <class T>
double feature_at(const Tensor& t, int64_t c) {
  return static_cast<double>(*reinterpret_cast<const T*>(t.data() + c * t.strides[0]));
}

// Partial sums over all blocks held at once (8 MB of doubles): past that the
// blocks grow longer instead of more numerous.
constexpr int64_t kPartialBudget = int64_t{1} << 20;

int dtype_index(DType d) { return d == DType::Float64 ? 1 : 0; }

// s0[c] and s1[c] (C each) = the sums `kind` (NormSum in kernel_table.h) over
// feature c's N elements of x and dy (contiguous; dy null when the kind does
// not read it), m the per-feature means (or null). The split depends on the
// shape only (Note [Batch norm]), so the sums are the same for any thread count.
void feature_sums(NormSum kind, DType dtype, const NormShape& s, const char* x, const char* dy, const double* m,
                  double* s0, double* s1) {
  const int64_t C = s.c, inner = s.inner, row = C * inner, e = itemsize(dtype);
  std::fill(s0, s0 + C, 0.0);
  std::fill(s1, s1 + C, 0.0);
  if (C == 0) return;
  const NormSumLoop loop = kernels().norm_sum[static_cast<int>(kind)][dtype_index(dtype)];
  NormSumArgs base{x, dy, m, s0, s1, s.outer, C, inner, row};
  if (inner > 1 && C >= 16) {
    // Whole features per thread: each folds the outer runs of its features.
    const int64_t grain = std::max<int64_t>(1, kGrainSize / std::max<int64_t>(s.n(), 1));
    parallel_for(C, grain, [&](int64_t c0, int64_t c1) {
      NormSumArgs a = base;
      a.x += c0 * inner * e;
      if (a.dy) a.dy += c0 * inner * e;
      if (a.mean) a.mean += c0;
      a.s0 += c0;
      a.s1 += c0;
      a.cols = c1 - c0;
      loop(a);
    });
    return;
  }
  // Fixed blocks of rows, each into its own partial sums, combined in block order.
  int64_t block = std::max<int64_t>(1, (kGrainSize + row - 1) / std::max<int64_t>(row, 1));
  int64_t nblocks = (s.outer + block - 1) / block;
  const int64_t max_blocks = std::max<int64_t>(1, kPartialBudget / (2 * C));
  if (nblocks > max_blocks) {
    block = (s.outer + max_blocks - 1) / max_blocks;
    nblocks = (s.outer + block - 1) / block;
  }
  if (nblocks == 0) return;
  AllocScratch scratch;  // Note [Captured allocations]
  Tensor partial = tensor_empty(Dims{nblocks, 2, C}, DType::Float64);
  double* p = reinterpret_cast<double*>(partial.data());
  parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      NormSumArgs a = base;
      const int64_t o0 = b * block;
      a.x += o0 * row * e;
      if (a.dy) a.dy += o0 * row * e;
      a.s0 = p + b * 2 * C;
      a.s1 = a.s0 + C;
      a.rows = std::min(s.outer, o0 + block) - o0;
      std::fill(a.s0, a.s0 + 2 * C, 0.0);
      loop(a);
    }
  });
  for (int64_t b = 0; b < nblocks; ++b) {
    const double* pb = p + b * 2 * C;
    for (int64_t c = 0; c < C; ++c) {
      s0[c] += pb[c];
      s1[c] += pb[C + c];
    }
  }
}

// out = the element-wise pass `kind` (NormApply in kernel_table.h) over all
// elements; p: 4 * C parameters of the dtype. x or dy may be null when the
// kind does not read it.
void feature_apply(NormApply kind, DType dtype, const NormShape& s, const char* x, const char* dy, char* out,
                   const char* p) {
  const NormApplyLoop loop = kernels().norm_apply[static_cast<int>(kind)][dtype_index(dtype)];
  parallel_for(s.numel(), kGrainSize, [&](int64_t b, int64_t e) {
    loop(NormApplyArgs{x, dy, out, p, s.c, s.inner, b, e});
  });
}

const double* row_of(const Tensor& t, int64_t r) {
  return reinterpret_cast<const double*>(t.data()) + r * t.shape[1];
}

template <class T>
void forward_typed(const NormShape& s, const Tensor& xc, const Tensor* gamma, const Tensor* beta, double eps,
                   bool training, const Tensor* moving_mean, const Tensor* moving_var, const Tensor& y,
                   const Tensor* mean_out, const Tensor* var_out, const Tensor& saved) {
  const int64_t C = s.c;
  double* mean = reinterpret_cast<double*>(saved.data());
  double* inv_std = mean + C;
  AllocScratch scratch;  // Note [Captured allocations]
  Tensor work = tensor_empty(Dims{2, C}, DType::Float64);
  double* sums = reinterpret_cast<double*>(work.data());
  const double count = static_cast<double>(s.n());
  if (training) {
    feature_sums(NormSum::x, xc.dtype, s, xc.data(), nullptr, nullptr, sums, sums + C);
    for (int64_t c = 0; c < C; ++c) mean[c] = sums[c] / count;  // 0 / 0: NaN, as NumPy's mean of nothing
    feature_sums(NormSum::squared_deviation, xc.dtype, s, xc.data(), nullptr, mean, sums, sums + C);
    T* mo = reinterpret_cast<T*>(mean_out->data());
    T* vo = reinterpret_cast<T*>(var_out->data());
    for (int64_t c = 0; c < C; ++c) {
      const double v = sums[c] / count;
      mo[c] = static_cast<T>(mean[c]);
      vo[c] = static_cast<T>(v);
      inv_std[c] = 1.0 / std::sqrt(v + eps);
    }
  } else {
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = feature_at<T>(*moving_mean, c);
      inv_std[c] = 1.0 / std::sqrt(feature_at<T>(*moving_var, c) + eps);
    }
  }
  Tensor params = tensor_empty(Dims{4, C}, dtype_of<T>());
  T* p = reinterpret_cast<T*>(params.data());
  for (int64_t c = 0; c < C; ++c) {
    const double g = gamma ? feature_at<T>(*gamma, c) : 1.0;
    p[c] = static_cast<T>(mean[c]);
    p[C + c] = static_cast<T>(g * inv_std[c]);
    p[2 * C + c] = beta ? static_cast<T>(feature_at<T>(*beta, c)) : T(0);
    p[3 * C + c] = T(0);
  }
  feature_apply(NormApply::normalize, xc.dtype, s, xc.data(), nullptr, y.data(), params.data());
}

template <class T>
void backward_typed(const NormShape& s, const Tensor& dyc, const Tensor& xc, const Tensor& saved, const Tensor* gamma,
                    bool training, const Tensor* dx, const Tensor* sum_dy_xhat, const Tensor* sum_dy) {
  const int64_t C = s.c;
  const double* mean = row_of(saved, 0);
  const double* inv_std = row_of(saved, 1);
  AllocScratch scratch;  // Note [Captured allocations]
  Tensor work = tensor_empty(Dims{2, C}, DType::Float64);
  double* sd = reinterpret_cast<double*>(work.data());  // sum(dy)
  double* sdx = sd + C;                                 // sum(dy * (x - mean)), then sum(dy * xhat)
  const bool need_sums = sum_dy_xhat || (dx && training);
  if (need_sums) {
    feature_sums(NormSum::dy_deviation, xc.dtype, s, xc.data(), dyc.data(), mean, sd, sdx);
    for (int64_t c = 0; c < C; ++c) sdx[c] = s.n() ? sdx[c] * inv_std[c] : 0.0;  // inv_std is NaN when N == 0
  }
  if (sum_dy_xhat) {
    T* a = reinterpret_cast<T*>(sum_dy_xhat->data());
    T* b = reinterpret_cast<T*>(sum_dy->data());
    for (int64_t c = 0; c < C; ++c) {
      a[c] = static_cast<T>(sdx[c]);
      b[c] = static_cast<T>(sd[c]);
    }
  }
  if (!dx) return;
  Tensor params = tensor_empty(Dims{4, C}, dtype_of<T>());
  T* p = reinterpret_cast<T*>(params.data());
  const double count = static_cast<double>(s.n());
  for (int64_t c = 0; c < C; ++c) {
    const double k1 = (gamma ? feature_at<T>(*gamma, c) : 1.0) * inv_std[c];
    p[c] = static_cast<T>(mean[c]);
    p[2 * C + c] = static_cast<T>(k1);
    if (training) {  // dx = k1 / N * (N dy - sum_dy - xhat sum_dy_xhat)
      p[C + c] = static_cast<T>(-k1 * inv_std[c] * sdx[c] / count);
      p[3 * C + c] = static_cast<T>(-k1 * sd[c] / count);
    } else {
      p[C + c] = p[3 * C + c] = T(0);
    }
  }
  if (training) feature_apply(NormApply::training_grad, xc.dtype, s, xc.data(), dyc.data(), dx->data(), params.data());
  else feature_apply(NormApply::inference_grad, xc.dtype, s, nullptr, dyc.data(), dx->data(), params.data());
}

}  // namespace

void norm_batch(const Tensor& x, int64_t axis_in, const Tensor* gamma, const Tensor* beta, double eps, bool training,
                const Tensor* moving_mean, const Tensor* moving_var, Tensor* y, Tensor* mean, Tensor* var,
                Tensor* saved) {
  PYNN_CHECK_KIND(TypeError, is_float(x.dtype), "batch_norm: x must be float32 or float64, got ",
                  dtype_name(x.dtype));
  PYNN_CHECK(x.ndim() >= 1, "batch_norm: x must have at least one axis, got shape ", x.shape);
  const int axis = normalize_axis("batch_norm", axis_in, x.ndim());
  if (gamma) check_feature_arg("gamma", *gamma, x, axis);
  if (beta) check_feature_arg("beta", *beta, x, axis);
  if (!training) {
    PYNN_CHECK(moving_mean && moving_var, "batch_norm: inference needs moving_mean and moving_variance");
    check_feature_arg("moving_mean", *moving_mean, x, axis);
    check_feature_arg("moving_variance", *moving_var, x, axis);
  }
  const NormShape s = norm_shape(x, axis);
  // The results, outside any scratch scope and in this order on every call
  // (Note [Captured allocations]).
  const Tensor xc = ew_contiguous(x);
  *y = tensor_empty(x.shape, x.dtype);
  if (training) {
    *mean = tensor_empty(Dims{s.c}, x.dtype);
    *var = tensor_empty(Dims{s.c}, x.dtype);
  }
  *saved = tensor_empty(Dims{2, s.c}, DType::Float64);
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>)
      forward_typed<T>(s, xc, gamma, beta, eps, training, moving_mean, moving_var, *y, mean, var, *saved);
  });
}

void norm_batch_backward(const Tensor& dy_in, const Tensor& x, const Tensor& saved, const Tensor* gamma,
                         int64_t axis_in, bool training, bool need_dx, bool need_sums, Tensor* dx,
                         Tensor* sum_dy_xhat, Tensor* sum_dy) {
  PYNN_CHECK_KIND(TypeError, is_float(x.dtype), "batch_norm backward: x must be float32 or float64, got ",
                  dtype_name(x.dtype));
  PYNN_CHECK(x.ndim() >= 1, "batch_norm backward: x must have at least one axis, got shape ", x.shape);
  const int axis = normalize_axis("batch_norm", axis_in, x.ndim());
  PYNN_CHECK(dy_in.shape == x.shape, "batch_norm backward: the gradient has shape ", dy_in.shape, ", x has ",
             x.shape);
  PYNN_CHECK_KIND(TypeError, dy_in.dtype != DType::Bool, "batch_norm backward: the gradient is bool");
  PYNN_CHECK(saved.dtype == DType::Float64 && saved.shape == (Dims{2, x.shape[axis]}) && saved.is_contiguous(),
             "batch_norm backward: saved statistics must be a contiguous (2, ", x.shape[axis],
             ") float64 tensor, got ", dtype_name(saved.dtype), " ", saved.shape);
  if (gamma) check_feature_arg("gamma", *gamma, x, axis);
  const NormShape s = norm_shape(x, axis);
  // The results, outside any scratch scope and in this order on every call.
  const Tensor dyc = ew_contiguous(dy_in.dtype == x.dtype ? dy_in : ew_astype(dy_in, x.dtype));
  const Tensor xc = ew_contiguous(x);
  if (need_dx) *dx = tensor_empty(x.shape, x.dtype);
  if (need_sums) {
    *sum_dy_xhat = tensor_empty(Dims{s.c}, x.dtype);
    *sum_dy = tensor_empty(Dims{s.c}, x.dtype);
  }
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>)
      backward_typed<T>(s, dyc, xc, saved, gamma, training, need_dx ? dx : nullptr,
                        need_sums ? sum_dy_xhat : nullptr, need_sums ? sum_dy : nullptr);
  });
}

}  // namespace pynn
