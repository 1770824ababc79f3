// loops_norm.h: the batch-norm loops of the kernel table (Note [Batch norm] in
// norm.h; their contract is beside NormSum and NormApply in kernel_table.h).
//
// Include ONLY from kernels_isa.cpp, inside its anonymous namespace, after
// loops.h: it is compiled once per ISA (Note [Kernel table]).

// ---- per-feature sums ----
// A functor folds one element into two double accumulators:
// op(a0, a1, x, dy, m), m the feature's mean. kDy / kMean: whether it reads
// dy / m (the loops never touch an array an op does not read).

struct norm_sum_x {
  static constexpr bool kDy = false, kMean = false;
  template <class T>
  static void f(double& a0, double&, T x, T, double) { a0 += static_cast<double>(x); }
};
struct norm_sum_squared_deviation {
  static constexpr bool kDy = false, kMean = true;
  template <class T>
  static void f(double& a0, double&, T x, T, double m) {
    const double d = static_cast<double>(x) - m;
    a0 += d * d;
  }
};
struct norm_sum_dy_deviation {
  static constexpr bool kDy = true, kMean = true;
  template <class T>
  static void f(double& a0, double& a1, T x, T dy, double m) {
    a0 += static_cast<double>(dy);
    a1 += static_cast<double>(dy) * (static_cast<double>(x) - m);
  }
};

// n elements into the accumulators s0[j], s1[j]: one row of n consecutive
// features (kRow: m[j] is element j's mean) or n elements of one run of a
// feature (m[0] is the mean of all). An element-wise loop, so it vectorises;
// a run is folded through kRunChunk such accumulators, then summed in order.
template <class Op, bool kRow, class T>
inline void norm_fold(const T* __restrict x, const T* __restrict dy, const double* __restrict m, int64_t n,
                      double* __restrict s0, double* __restrict s1) {
  for (int64_t j = 0; j < n; ++j)
    Op::f(s0[j], s1[j], x[j], Op::kDy ? dy[j] : T(0), Op::kMean ? m[kRow ? j : 0] : 0.0);
}

constexpr int64_t kRunChunk = 512;

template <class T, class Op>
void norm_sum_loop(const NormSumArgs& a) {
  const T* x = reinterpret_cast<const T*>(a.x);
  const T* dy = Op::kDy ? reinterpret_cast<const T*>(a.dy) : x;
  double* s1 = a.s1 ? a.s1 : a.s0;  // ops without a second sum never write it
  if (a.inner == 1) {
    for (int64_t r = 0; r < a.rows; ++r)
      norm_fold<Op, true>(x + r * a.row_stride, dy + r * a.row_stride, a.mean, a.cols, a.s0, s1);
    return;
  }
  // Runs: per feature and chunk of its runs, every row into one set of accumulators.
  double acc0[kRunChunk], acc1[kRunChunk];
  for (int64_t c = 0; c < a.cols; ++c) {
    const double* m = Op::kMean ? a.mean + c : nullptr;
    for (int64_t j0 = 0; j0 < a.inner; j0 += kRunChunk) {
      const int64_t n = std::min(kRunChunk, a.inner - j0);
      std::fill(acc0, acc0 + n, 0.0);
      std::fill(acc1, acc1 + n, 0.0);
      for (int64_t r = 0; r < a.rows; ++r) {
        const int64_t at = r * a.row_stride + c * a.inner + j0;
        norm_fold<Op, false>(x + at, dy + at, m, n, acc0, acc1);
      }
      double t0 = 0, t1 = 0;
      for (int64_t j = 0; j < n; ++j) {
        t0 += acc0[j];
        t1 += acc1[j];
      }
      a.s0[c] += t0;
      s1[c] += t1;
    }
  }
}

// ---- element-wise passes ----
// out = Op::f(x, dy, p0, p1, p2, p3) with the element's feature's parameters.

struct norm_normalize {
  static constexpr bool kX = true, kDy = false;
  template <class T>
  static T f(T x, T, T mean, T scale, T beta, T) { return (x - mean) * scale + beta; }
};
struct norm_training_grad {
  static constexpr bool kX = true, kDy = true;
  template <class T>
  static T f(T x, T dy, T mean, T k2, T k1, T k3) { return (x - mean) * k2 + dy * k1 + k3; }
};
struct norm_inference_grad {
  static constexpr bool kX = false, kDy = true;
  template <class T>
  static T f(T, T dy, T, T, T k1, T) { return dy * k1; }
};

// n elements of consecutive features (inner == 1): parameters p*[j].
template <class Op, class T>
inline void norm_apply_features(const T* __restrict x, const T* __restrict dy, T* __restrict out,
                                const T* __restrict p0, const T* __restrict p1, const T* __restrict p2,
                                const T* __restrict p3, int64_t n) {
  for (int64_t j = 0; j < n; ++j)
    out[j] = Op::f(Op::kX ? x[j] : T(0), Op::kDy ? dy[j] : T(0), p0[j], p1[j], p2[j], p3[j]);
}

// n elements of one feature.
template <class Op, class T>
inline void norm_apply_run(const T* __restrict x, const T* __restrict dy, T* __restrict out, T q0, T q1, T q2, T q3,
                           int64_t n) {
  for (int64_t j = 0; j < n; ++j) out[j] = Op::f(Op::kX ? x[j] : T(0), Op::kDy ? dy[j] : T(0), q0, q1, q2, q3);
}

template <class T, class Op>
void norm_apply_loop(const NormApplyArgs& a) {
  const T* x = Op::kX ? reinterpret_cast<const T*>(a.x) : nullptr;
  const T* dy = Op::kDy ? reinterpret_cast<const T*>(a.dy) : nullptr;
  if (!x) x = dy;  // never read
  if (!dy) dy = x;
  T* out = reinterpret_cast<T*>(a.out);
  const int64_t C = a.c, inner = a.inner;
  const T* p = reinterpret_cast<const T*>(a.p);
  const T *p0 = p, *p1 = p + C, *p2 = p + 2 * C, *p3 = p + 3 * C;
  int64_t i = a.begin;
  while (i < a.end) {  // in pieces that stay in one row (inner == 1) or one run of a feature
    if (inner == 1) {
      const int64_t c0 = i % C, n = std::min(C - c0, a.end - i);
      norm_apply_features<Op>(x + i, dy + i, out + i, p0 + c0, p1 + c0, p2 + c0, p3 + c0, n);
      i += n;
    } else {
      const int64_t r = i / inner, c = r % C, n = std::min(inner - (i - r * inner), a.end - i);
      norm_apply_run<Op>(x + i, dy + i, out + i, p0[c], p1[c], p2[c], p3[c], n);
      i += n;
    }
  }
}
