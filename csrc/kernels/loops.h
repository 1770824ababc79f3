// loops.h: the functors and the shared inner loops behind the kernel table.
//
// Include ONLY from kernels_isa.cpp, inside its anonymous namespace: that file
// is compiled once per ISA, and everything here must have internal linkage so
// the linker can never hand an AVX-512 copy of a helper to generic code.
//
// Note [Restrict and in-place ops]
// The inner loops declare their pointers __restrict so GCC vectorises them
// without run-time alias checks. That is sound because the callers
// (elementwise.cpp) guarantee that an output either does not overlap an input
// at all or is exactly the same view of it (a += b): element i is read before
// element i is written and never read again. Partial overlaps are broken by
// copying the input first.

// ---------------------------------------------------------------- helpers

template <class T> struct UnsignedOf { using type = T; };
template <> struct UnsignedOf<int32_t> { using type = uint32_t; };
template <> struct UnsignedOf<int64_t> { using type = uint64_t; };

template <class T> constexpr bool kIsFloat = std::is_floating_point_v<T>;
template <class T> constexpr bool kIsBool = std::is_same_v<T, bool>;

// Integer arithmetic wraps around like NumPy's (done in unsigned types, where
// C++ defines overflow).
template <class T> inline T wrap_add(T a, T b) {
  using U = typename UnsignedOf<T>::type;
  if constexpr (kIsBool<T>) return a || b;
  else if constexpr (kIsFloat<T>) return a + b;
  else return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
}
template <class T> inline T wrap_sub(T a, T b) {
  using U = typename UnsignedOf<T>::type;
  if constexpr (kIsFloat<T>) return a - b;
  else return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
}
template <class T> inline T wrap_mul(T a, T b) {
  using U = typename UnsignedOf<T>::type;
  if constexpr (kIsBool<T>) return a && b;
  else if constexpr (kIsFloat<T>) return a * b;
  else return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
}
template <class T> inline bool is_nan(T x) {
  if constexpr (kIsFloat<T>) return x != x;
  else return false;
}
// sqrt in the operand's own precision (sqrtps for float, not a trip through double).
template <class T> inline T vsqrt(T x) {
  if constexpr (std::is_same_v<T, float>) return __builtin_sqrtf(x);
  else return __builtin_sqrt(x);
}

template <class T> inline T vabs(T x) {
  if constexpr (std::is_same_v<T, float>) return __builtin_fabsf(x);
  else return __builtin_fabs(x);
}

// NumPy's maximum/minimum: a NaN in either operand gives NaN.
template <class T> inline T nan_max(T a, T b) { return (a >= b || is_nan(a)) ? a : b; }
template <class T> inline T nan_min(T a, T b) { return (a <= b || is_nan(a)) ? a : b; }

template <class T> inline T lowest() {
  if constexpr (kIsFloat<T>) return -__builtin_inf();
  else if constexpr (kIsBool<T>) return false;
  else return std::numeric_limits<T>::min();
}
template <class T> inline T highest() {
  if constexpr (kIsFloat<T>) return __builtin_inf();
  else if constexpr (kIsBool<T>) return true;
  else return std::numeric_limits<T>::max();
}

// Value conversion with NumPy's results where C++ leaves it undefined:
// float -> int of NaN or out of range gives the integer minimum (as x86 does),
// float -> uint8 goes through int32 and wraps, anything -> bool is x != 0.
template <class To, class From> inline To convert(From x) {
  if constexpr (kIsBool<To>) {
    return x != From(0);
  } else if constexpr (kIsFloat<From> && !kIsFloat<To>) {
    using Wide = std::conditional_t<sizeof(To) == 8, int64_t, int32_t>;
    constexpr From lim = From(sizeof(Wide) == 8 ? 9223372036854775808.0 : 2147483648.0);
    Wide w = (x >= -lim && x < lim) ? static_cast<Wide>(x) : std::numeric_limits<Wide>::min();
    return static_cast<To>(w);
  } else {
    return static_cast<To>(x);
  }
}

// ---------------------------------------------------------------- functors
// `ok<T>` says which compute dtypes the op takes; the table leaves the others null.

struct op_add { template <class T> static constexpr bool ok = true; template <class T> static T f(T a, T b) { return wrap_add(a, b); } };
struct op_subtract { template <class T> static constexpr bool ok = !kIsBool<T>; template <class T> static T f(T a, T b) { return wrap_sub(a, b); } };
struct op_multiply { template <class T> static constexpr bool ok = true; template <class T> static T f(T a, T b) { return wrap_mul(a, b); } };
struct op_divide { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T a, T b) { return a / b; } };
struct op_power {
  template <class T> static constexpr bool ok = !kIsBool<T>;
  template <class T> static T f(T a, T b) {
    if constexpr (kIsFloat<T>) {
      if constexpr (std::is_same_v<T, float>) return __builtin_powf(a, b);
      else return __builtin_pow(a, b);
    } else {  // b >= 0 (checked by the caller); square-and-multiply, wrapping
      T r = 1;
      auto e = static_cast<typename UnsignedOf<T>::type>(b);
      while (e) {
        if (e & 1) r = wrap_mul(r, a);
        a = wrap_mul(a, a);
        e >>= 1;
      }
      return r;
    }
  }
};
struct op_maximum { template <class T> static constexpr bool ok = true; template <class T> static T f(T a, T b) { return nan_max(a, b); } };
struct op_minimum { template <class T> static constexpr bool ok = true; template <class T> static T f(T a, T b) { return nan_min(a, b); } };
struct op_equal { template <class T> static constexpr bool ok = true; template <class T> static bool f(T a, T b) { return a == b; } };
struct op_not_equal { template <class T> static constexpr bool ok = true; template <class T> static bool f(T a, T b) { return a != b; } };
struct op_greater { template <class T> static constexpr bool ok = true; template <class T> static bool f(T a, T b) { return a > b; } };
struct op_greater_equal { template <class T> static constexpr bool ok = true; template <class T> static bool f(T a, T b) { return a >= b; } };
struct op_less { template <class T> static constexpr bool ok = true; template <class T> static bool f(T a, T b) { return a < b; } };
struct op_less_equal { template <class T> static constexpr bool ok = true; template <class T> static bool f(T a, T b) { return a <= b; } };

// Activation derivatives folded into the incoming gradient: f(dy, y) with y
// the activation's output (the layer kernels' backward, nn.cpp).
struct op_relu_grad { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T dy, T y) { return y > T(0) ? dy : T(0); } };
struct op_sigmoid_grad { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T dy, T y) { return dy * (y * (T(1) - y)); } };  // as ops.sigmoid's backward groups it
struct op_tanh_grad { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T dy, T y) { return dy * (T(1) - y * y); } };

// Binary cross-entropy from logits x against targets t:
// max(x, 0) - x t + log(1 + exp(-|x|)), with log1p(e) = log(u) e / (u - 1),
// u = 1 + e, exact where 1 + e rounds (e tiny: log1p(e) = e). Its derivative
// in x is sigmoid(x) - t.
struct op_bce_logits {
  template <class T> static constexpr bool ok = kIsFloat<T>;
  template <class T> static T f(T x, T t) {
    const T e = vmath::exp(-vabs(x));
    const T u = T(1) + e;
    const T log1p_e = u == T(1) ? e : vmath::log(u) * e / (u - T(1));
    return (x > T(0) ? x : T(0)) - x * t + log1p_e;
  }
};
struct op_bce_logits_grad { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T x, T t) { return vmath::sigmoid(x) - t; } };

struct op_negative { template <class T> static constexpr bool ok = !kIsBool<T>; template <class T> static T f(T x) { return wrap_sub(T(0), x); } };
struct op_abs {
  template <class T> static constexpr bool ok = true;
  template <class T> static T f(T x) {
    if constexpr (kIsFloat<T>) return vabs(x);
    else if constexpr (std::is_signed_v<T>) return x < 0 ? wrap_sub(T(0), x) : x;
    else return x;
  }
};
struct op_exp { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T x) { return vmath::exp(x); } };
struct op_log { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T x) { return vmath::log(x); } };
struct op_sqrt { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T x) { return vsqrt(x); } };
struct op_square { template <class T> static constexpr bool ok = !kIsBool<T>; template <class T> static T f(T x) { return wrap_mul(x, x); } };
struct op_tanh { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T x) { return vmath::tanh(x); } };
struct op_sigmoid { template <class T> static constexpr bool ok = kIsFloat<T>; template <class T> static T f(T x) { return vmath::sigmoid(x); } };
struct op_relu { template <class T> static constexpr bool ok = true; template <class T> static T f(T x) { return nan_max(x, T(0)); } };

// ---- activations (Note [Activation registry] in kernel_table.h) ----
// f(x, h), d(x, y, h) = f'(x) and dd(x, y, h) = f''(x), h the scalars in T
// (0 where f' is piecewise constant). expm1 and log1p are exact near 0, where
// exp(x) - 1 and log(1 + x) cancel, by Kahan's trick on the rounded u (u - 1
// and log(u) err alike, so their ratio is right to a few ulp) and stay
// straight-line code that vectorises; erfc is libm's (1 + erf(x) cancels).

template <class T> inline T vexpm1(T x) {  // (u - 1) x / log(u), u = e^x
  const T u = vmath::exp(x);
  const T r = (u - T(1)) * x / vmath::log(u);
  T out = u == T(1) ? x : r;
  out = u == T(0) ? T(-1) : out;
  out = u == T(__builtin_inf()) ? u : out;
  return x != x ? x : out;
}
template <class T> inline T vlog1p(T e) {  // log(u) e / (u - 1), u = 1 + e; e >= 0 here
  const T u = T(1) + e;
  return u == T(1) ? e : vmath::log(u) * e / (u - T(1));
}
template <class T> inline T verfc(T x) {
  if constexpr (std::is_same_v<T, float>) return __builtin_erfcf(x);
  else return __builtin_erfc(x);
}
template <class T> inline bool is_inf(T x) { return vabs(x) == T(__builtin_inf()); }
// log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|).
template <class T> inline T softplus_of(T x) { return (x > T(0) ? x : T(0)) + vlog1p(vmath::exp(-vabs(x))); }
// x where x is NaN, else r (selects that give 0 or a constant for NaN).
template <class T> inline T keep_nan(T x, T r) { return x != x ? x : r; }
// The limit at +-inf of x * (something tending to 0 at -inf and 1 at +inf).
template <class T> inline T gated(T x, T r) { return is_inf(x) ? (x > T(0) ? x : T(0)) : r; }
template <class T> inline T gated_d(T x, T r) { return is_inf(x) ? (x > T(0) ? T(1) : T(0)) : r; }

struct act_relu {  // h = {slope, threshold, lo, hi}
  template <class T> static T f(T x, const T* h) {
    const T pos = x < h[2] ? h[2] : (x > h[3] ? h[3] : x);
    const T neg = h[0] == T(0) ? T(0) : h[0] * (x - h[1]);
    return keep_nan(x, x > h[1] ? pos : neg);
  }
  template <class T> static T d(T x, T, const T* h) { return x > h[1] ? T(x >= h[2] && x <= h[3]) : h[0]; }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_leaky_relu {  // h = {slope}: max(x, slope x)
  template <class T> static T f(T x, const T* h) {
    const T b = h[0] == T(0) ? T(0) : h[0] * x;
    return keep_nan(x, x >= b ? x : b);
  }
  template <class T> static T d(T x, T, const T* h) { return x >= h[0] * x ? T(1) : h[0]; }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_elu {  // h = {alpha, scale}
  template <class T> static T f(T x, const T* h) { return h[1] * (x >= T(0) ? x : h[0] * vexpm1(x)); }
  template <class T> static T d(T x, T, const T* h) { return x >= T(0) ? h[1] : h[1] * h[0] * vmath::exp(x); }
  template <class T> static T dd(T x, T, const T* h) { return x >= T(0) ? T(0) : h[1] * h[0] * vmath::exp(x); }
};
struct act_celu {  // h = {alpha}
  template <class T> static T f(T x, const T* h) {
    return keep_nan(x, (x > T(0) ? x : T(0)) + h[0] * vexpm1((x < T(0) ? x : T(0)) / h[0]));
  }
  template <class T> static T d(T x, T, const T* h) { return x > T(0) ? T(1) : vmath::exp(x / h[0]); }
  template <class T> static T dd(T x, T, const T* h) { return x > T(0) ? T(0) : vmath::exp(x / h[0]) / h[0]; }
};
struct act_softplus {
  template <class T> static T f(T x, const T*) { return softplus_of(x); }
  template <class T> static T d(T x, T, const T*) { return vmath::sigmoid(x); }
  template <class T> static T dd(T x, T, const T*) {
    const T s = vmath::sigmoid(x);
    return s * (T(1) - s);
  }
};
struct act_log_sigmoid {
  template <class T> static T f(T x, const T*) { return -softplus_of(-x); }
  template <class T> static T d(T x, T, const T*) { return vmath::sigmoid(-x); }
  template <class T> static T dd(T x, T, const T*) {
    const T s = vmath::sigmoid(x);
    return -s * (T(1) - s);
  }
};
struct act_softsign {
  template <class T> static T f(T x, const T*) {
    const T a = vabs(x);
    return is_inf(x) ? (x > T(0) ? T(1) : T(-1)) : x / (T(1) + a);
  }
  template <class T> static T d(T x, T, const T*) {
    const T a = T(1) + vabs(x);
    return T(1) / (a * a);
  }
  template <class T> static T dd(T x, T, const T*) {
    const T a = T(1) + vabs(x);
    return (x > T(0) ? T(-2) : (x < T(0) ? T(2) : T(0))) / (a * a * a);
  }
};
struct act_silu {
  template <class T> static T f(T x, const T*) { return gated(x, x * vmath::sigmoid(x)); }
  template <class T> static T d(T x, T, const T*) {
    const T s = vmath::sigmoid(x);
    return gated_d(x, s * (T(1) + x * (T(1) - s)));
  }
  template <class T> static T dd(T x, T, const T*) {
    const T s = vmath::sigmoid(x);
    return is_inf(x) ? T(0) : s * (T(1) - s) * (T(2) + x * (T(1) - T(2) * s));
  }
};
struct act_gelu {  // x Phi(x), Phi(x) = erfc(-x / sqrt 2) / 2
  template <class T> static T f(T x, const T*) { return gated(x, T(0.5) * x * verfc(-x * T(0.70710678118654752440))); }
  template <class T> static T d(T x, T, const T*) {
    const T cdf = T(0.5) * verfc(-x * T(0.70710678118654752440));
    const T pdf = T(0.39894228040143267794) * vmath::exp(T(-0.5) * x * x);
    return gated_d(x, cdf + x * pdf);
  }
  template <class T> static T dd(T x, T, const T*) {  // phi(x) (2 - x^2)
    const T pdf = T(0.39894228040143267794) * vmath::exp(T(-0.5) * x * x);
    return is_inf(x) ? T(0) : pdf * (T(2) - x * x);
  }
};
struct act_gelu_tanh {
  template <class T> static T f(T x, const T*) {
    const T t = vmath::tanh(T(0.79788456080286535588) * (x + T(0.044715) * (x * x * x)));
    return gated(x, T(0.5) * x * (T(1) + t));
  }
  template <class T> static T d(T x, T, const T*) {
    const T t = vmath::tanh(T(0.79788456080286535588) * (x + T(0.044715) * (x * x * x)));
    const T r = T(0.5) * (T(1) + t) +
                T(0.5) * x * (T(1) - t * t) * T(0.79788456080286535588) * (T(1) + T(3 * 0.044715) * x * x);
    return vabs(x) > T(1e4) ? (x > T(0) ? T(1) : T(0)) : r;  // beyond, 1 - t^2 is 0 and x^2 may overflow
  }
  template <class T> static T dd(T x, T, const T*) {  // (1 - t^2) (u' - x t u'^2 + x u'' / 2)
    const T c = T(0.79788456080286535588), k = T(0.044715);
    const T t = vmath::tanh(c * (x + k * (x * x * x)));
    const T u1 = c * (T(1) + T(3) * k * x * x), u2 = T(6) * c * k * x;
    const T r = (T(1) - t * t) * (u1 - x * t * u1 * u1 + T(0.5) * x * u2);
    return vabs(x) > T(1e4) ? T(0) : r;
  }
};
struct act_mish {
  template <class T> static T f(T x, const T*) { return gated(x, x * vmath::tanh(softplus_of(x))); }
  template <class T> static T d(T x, T, const T*) {
    const T t = vmath::tanh(softplus_of(x));
    return gated_d(x, t + x * vmath::sigmoid(x) * (T(1) - t * t));
  }
  template <class T> static T dd(T x, T, const T*) {  // s (1 - T^2) (2 + x (1 - s - 2 T s))
    const T t = vmath::tanh(softplus_of(x)), s = vmath::sigmoid(x);
    return is_inf(x) ? T(0) : s * (T(1) - t * t) * (T(2) + x * (T(1) - s - T(2) * t * s));
  }
};
struct act_hard_sigmoid {
  template <class T> static T f(T x, const T*) {
    const T u = x / T(6) + T(0.5);
    return u <= T(0) ? T(0) : (u >= T(1) ? T(1) : u);
  }
  template <class T> static T d(T x, T, const T*) {
    const T u = x / T(6) + T(0.5);
    return u > T(0) && u < T(1) ? T(1) / T(6) : T(0);
  }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_hard_silu {
  template <class T> static T f(T x, const T* h) { return gated(x, x * act_hard_sigmoid::f(x, h)); }
  template <class T> static T d(T x, T, const T*) {
    const T u = x / T(6) + T(0.5);
    return u <= T(0) ? T(0) : (u >= T(1) ? T(1) : (T(2) * x + T(3)) / T(6));
  }
  template <class T> static T dd(T x, T, const T*) {
    const T u = x / T(6) + T(0.5);
    return u > T(0) && u < T(1) ? T(1) / T(3) : T(0);
  }
};
struct act_hard_tanh {
  template <class T> static T f(T x, const T*) { return x < T(-1) ? T(-1) : (x > T(1) ? T(1) : x); }
  template <class T> static T d(T x, T, const T*) { return T(x > T(-1) && x < T(1)); }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_sigmoid {
  template <class T> static T f(T x, const T*) { return vmath::sigmoid(x); }
  template <class T> static T d(T, T y, const T*) { return y * (T(1) - y); }
  template <class T> static T dd(T, T y, const T*) { return y * (T(1) - y) * (T(1) - T(2) * y); }
};
struct act_tanh {
  template <class T> static T f(T x, const T*) { return vmath::tanh(x); }
  template <class T> static T d(T, T y, const T*) { return T(1) - y * y; }
  template <class T> static T dd(T, T y, const T*) { return T(-2) * y * (T(1) - y * y); }
};
struct act_exponential {
  template <class T> static T f(T x, const T*) { return vmath::exp(x); }
  template <class T> static T d(T, T y, const T*) { return y; }
  template <class T> static T dd(T, T y, const T*) { return y; }
};
struct act_soft_shrink {  // h = {t}
  template <class T> static T f(T x, const T* h) { return keep_nan(x, x > h[0] ? x - h[0] : (x < -h[0] ? x + h[0] : T(0))); }
  template <class T> static T d(T x, T, const T* h) { return T(x > h[0] || x < -h[0]); }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_hard_shrink {  // h = {t}
  template <class T> static T f(T x, const T* h) { return keep_nan(x, vabs(x) > h[0] ? x : T(0)); }
  template <class T> static T d(T x, T, const T* h) { return T(vabs(x) > h[0]); }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_tanh_shrink {
  template <class T> static T f(T x, const T*) { return x - vmath::tanh(x); }
  template <class T> static T d(T x, T, const T*) {
    const T t = vmath::tanh(x);
    return t * t;
  }
  template <class T> static T dd(T x, T, const T*) {
    const T t = vmath::tanh(x);
    return T(2) * t * (T(1) - t * t);
  }
};
struct act_squareplus {  // h = {b}
  // sqrt(x^2 + b), which is |x| to working precision long before x^2 overflows.
  template <class T> static T root(T x, T b) { return vabs(x) > T(1e18) ? vabs(x) : vsqrt(x * x + b); }
  template <class T> static T f(T x, const T* h) {
    const T s = root(x, h[0]);
    return x >= T(0) ? (x + s) * T(0.5) : h[0] / (T(2) * (s - x));
  }
  template <class T> static T d(T x, T y, const T* h) {  // (1 + x / s) / 2 = y / s
    const T s = root(x, h[0]);
    return is_inf(s) ? T(x > T(0)) : y / s;
  }
  template <class T> static T dd(T x, T, const T* h) {  // b / (2 s^3)
    const T s = root(x, h[0]);
    return T(0.5) * h[0] / (s * s * s);
  }
};
struct act_sparse_plus {
  template <class T> static T f(T x, const T*) {
    const T u = x + T(1);
    return x <= T(-1) ? T(0) : (x < T(1) ? u * u * T(0.25) : x);
  }
  template <class T> static T d(T x, T, const T*) { return x <= T(-1) ? T(0) : (x < T(1) ? (x + T(1)) * T(0.5) : T(1)); }
  template <class T> static T dd(T x, T, const T*) { return T(x > T(-1) && x < T(1)) * T(0.5); }
};
struct act_sparse_sigmoid {
  template <class T> static T f(T x, const T*) { return x <= T(-1) ? T(0) : (x >= T(1) ? T(1) : (x + T(1)) * T(0.5)); }
  template <class T> static T d(T x, T, const T*) { return T(x > T(-1) && x < T(1)) * T(0.5); }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};
struct act_threshold {  // h = {t, v}
  template <class T> static T f(T x, const T* h) { return keep_nan(x, x > h[0] ? x : h[1]); }
  template <class T> static T d(T x, T, const T* h) { return T(x > h[0]); }
  template <class T> static T dd(T, T, const T*) { return T(0); }
};

// ---------------------------------------------------------------- loops
// Each loop takes the contiguous path when every stride equals the itemsize,
// a scalar path when one input has stride 0, else the general strided path.

template <class T> inline T& at(char* p, int64_t s, int64_t i) { return *reinterpret_cast<T*>(p + i * s); }

template <class Op, class T, class R>
void binary_loop(char** p, const int64_t* s, int64_t n) {
  constexpr int64_t st = sizeof(T), sr = sizeof(R);
  R* __restrict o = reinterpret_cast<R*>(p[0]);
  const T* __restrict a = reinterpret_cast<const T*>(p[1]);
  const T* __restrict b = reinterpret_cast<const T*>(p[2]);
  if (s[0] == sr && s[1] == st && s[2] == st) {
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], b[i]);
  } else if (s[0] == sr && s[1] == st && s[2] == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(a[i], bv);
  } else if (s[0] == sr && s[1] == 0 && s[2] == st) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) at<R>(p[0], s[0], i) = Op::f(at<T>(p[1], s[1], i), at<T>(p[2], s[2], i));
  }
}

template <class Op, class T>
void unary_loop(char** p, const int64_t* s, int64_t n) {
  constexpr int64_t st = sizeof(T);
  if (s[0] == st && s[1] == st) {
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict x = reinterpret_cast<const T*>(p[1]);
    for (int64_t i = 0; i < n; ++i) o[i] = Op::f(x[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) at<T>(p[0], s[0], i) = Op::f(at<T>(p[1], s[1], i));
  }
}

// (y, x, h) and (dx, dy, x, y, h): h is a double[kActParams] with stride 0
// (Note [Activation registry]); kOrder 1: dx = dy f'(x), 2: dx = dy f''(x).
template <class A, class T>
void act_loop(char** p, const int64_t* s, int64_t n) {
  const double* hd = reinterpret_cast<const double*>(p[2]);
  const T h[kActParams] = {static_cast<T>(hd[0]), static_cast<T>(hd[1]), static_cast<T>(hd[2]), static_cast<T>(hd[3])};
  if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict x = reinterpret_cast<const T*>(p[1]);
    for (int64_t i = 0; i < n; ++i) o[i] = A::f(x[i], h);
  } else {
    for (int64_t i = 0; i < n; ++i) at<T>(p[0], s[0], i) = A::f(at<T>(p[1], s[1], i), h);
  }
}

template <class A, class T, int kOrder>
void act_grad_loop(char** p, const int64_t* s, int64_t n) {
  const double* hd = reinterpret_cast<const double*>(p[4]);
  const T h[kActParams] = {static_cast<T>(hd[0]), static_cast<T>(hd[1]), static_cast<T>(hd[2]), static_cast<T>(hd[3])};
  auto D = [&](T x, T y) { return kOrder == 1 ? A::d(x, y, h) : A::dd(x, y, h); };
  if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == sizeof(T) && s[3] == sizeof(T)) {
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict dy = reinterpret_cast<const T*>(p[1]);
    const T* __restrict x = reinterpret_cast<const T*>(p[2]);
    const T* __restrict y = reinterpret_cast<const T*>(p[3]);
    for (int64_t i = 0; i < n; ++i) o[i] = dy[i] * D(x[i], y[i]);
  } else {
    for (int64_t i = 0; i < n; ++i)
      at<T>(p[0], s[0], i) = at<T>(p[1], s[1], i) * D(at<T>(p[2], s[2], i), at<T>(p[3], s[3], i));
  }
}

template <class From, class To>
void cast_loop(char** p, const int64_t* s, int64_t n) {
  if (s[0] == sizeof(To) && s[1] == sizeof(From)) {
    To* __restrict o = reinterpret_cast<To*>(p[0]);
    const From* __restrict x = reinterpret_cast<const From*>(p[1]);
    for (int64_t i = 0; i < n; ++i) o[i] = convert<To>(x[i]);
  } else if (s[0] == sizeof(To) && s[1] == 0) {
    To* __restrict o = reinterpret_cast<To*>(p[0]);
    const To v = convert<To>(*reinterpret_cast<const From*>(p[1]));
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  } else {
    for (int64_t i = 0; i < n; ++i) at<To>(p[0], s[0], i) = convert<To>(at<From>(p[1], s[1], i));
  }
}

// The select is done on the bits: each lane's mask is all ones where the
// condition holds, so the loop vectorizes to loads, ands and ors and never
// branches on the (often random) condition (a branchy select costs a
// misprediction per element: 4 ns). The backward of relu, abs, maximum and
// clip select against a scalar 0: those layouts have their own loops.
template <class T>
struct SelectBits {
  using U = std::conditional_t<sizeof(T) == 1, uint8_t,
            std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
  static inline T pick(uint8_t c, T a, T b) {
    U ua, ub;
    __builtin_memcpy(&ua, &a, sizeof(T));
    __builtin_memcpy(&ub, &b, sizeof(T));
    const U m = static_cast<U>(0) - static_cast<U>(c != 0);
    const U r = (ua & m) | (ub & ~m);
    T out;
    __builtin_memcpy(&out, &r, sizeof(T));
    return out;
  }
};

template <class T>
void where_loop(char** p, const int64_t* s, int64_t n) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 4 || sizeof(T) == 8, "where: an element of 1, 4 or 8 bytes");
  constexpr int64_t st = sizeof(T);
  T* __restrict o = reinterpret_cast<T*>(p[0]);
  const uint8_t* __restrict c = reinterpret_cast<const uint8_t*>(p[1]);
  const T* __restrict a = reinterpret_cast<const T*>(p[2]);
  const T* __restrict b = reinterpret_cast<const T*>(p[3]);
  if (s[0] == st && s[1] == 1 && s[2] == st && s[3] == st) {
    for (int64_t i = 0; i < n; ++i) o[i] = SelectBits<T>::pick(c[i], a[i], b[i]);
  } else if (s[0] == st && s[1] == 1 && s[2] == st && s[3] == 0) {
    const T bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = SelectBits<T>::pick(c[i], a[i], bv);
  } else if (s[0] == st && s[1] == 1 && s[2] == 0 && s[3] == st) {
    const T av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = SelectBits<T>::pick(c[i], av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i)
      at<T>(p[0], s[0], i) = SelectBits<T>::pick(at<uint8_t>(p[1], s[1], i), at<T>(p[2], s[2], i),
                                                  at<T>(p[3], s[3], i));
  }
}

// Note [Dropout masks] (nn.cpp): a counter-based hash of (key, element index),
// 32-bit multiplies and shifts only, so the loop vectorizes.
inline uint32_t dropout_hash(uint64_t key, int64_t i) {
  const uint64_t u = static_cast<uint64_t>(i);
  uint32_t h = static_cast<uint32_t>(u) * 0x9E3779B1u ^ static_cast<uint32_t>(key);
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  h ^= static_cast<uint32_t>(key >> 32) ^ static_cast<uint32_t>(u >> 32) * 0x632BE5ABu;
  h *= 0x7FEB352Du;
  h ^= h >> 15;
  h *= 0x846CA68Bu;
  h ^= h >> 16;
  return h;
}

template <class T>
void dropout_loop(char* out, const char* in, int64_t first, int64_t n, uint64_t key, uint32_t threshold,
                  double scale) {
  T* __restrict o = reinterpret_cast<T*>(out);
  const T* __restrict x = reinterpret_cast<const T*>(in);
  const T s = static_cast<T>(scale);
  for (int64_t j = 0; j < n; ++j) o[j] = x[j] * (dropout_hash(key, first + j) >= threshold ? s : T(0));
}

template <class T>
void clip_loop(char** p, const int64_t* s, int64_t n) {
  constexpr int64_t st = sizeof(T);
  if (s[0] == st && s[1] == st && s[2] == 0 && s[3] == 0) {
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict x = reinterpret_cast<const T*>(p[1]);
    const T lo = *reinterpret_cast<const T*>(p[2]), hi = *reinterpret_cast<const T*>(p[3]);
    for (int64_t i = 0; i < n; ++i) o[i] = nan_min(nan_max(x[i], lo), hi);
  } else {
    for (int64_t i = 0; i < n; ++i)
      at<T>(p[0], s[0], i) = nan_min(nan_max(at<T>(p[1], s[1], i), at<T>(p[2], s[2], i)), at<T>(p[3], s[3], i));
  }
}

// ---- reductions (Note [Reductions] in reduce.cpp) ----
// 2-D loops over `rows` runs. The accumulator (operand 0) has stride 0 along
// reduced axes, so each run is either folded into one accumulator (s[0] == 0)
// or folded element-wise into a row of accumulators (s[0] != 0). When the
// rows all fold into the same accumulator row (outer[0] == 0), four input rows
// are combined per pass, so the accumulators are loaded and stored a quarter
// as often.

// Sums accumulate in double for floats and in wrapping 64-bit integers for the
// rest (int64 and uint64 share a representation, and unsigned arithmetic wraps).
template <class T> using SumAcc = std::conditional_t<kIsFloat<T>, double, uint64_t>;

template <class T>
inline T* row_ptr(char* p, const int64_t* outer, int k, int64_t r) {
  return reinterpret_cast<T*>(p + r * outer[k]);
}

template <class T, class A = SumAcc<T>>
void reduce_sum_loop(char** p, const int64_t* s, int64_t n, const int64_t* outer, int64_t rows) {
  int64_t r = 0;
  if (s[0] == sizeof(A) && s[1] == sizeof(T) && outer[0] == 0) {
    A* __restrict acc = reinterpret_cast<A*>(p[0]);
    for (; r + 4 <= rows; r += 4) {
      const T* __restrict x0 = row_ptr<T>(p[1], outer, 1, r);
      const T* __restrict x1 = row_ptr<T>(p[1], outer, 1, r + 1);
      const T* __restrict x2 = row_ptr<T>(p[1], outer, 1, r + 2);
      const T* __restrict x3 = row_ptr<T>(p[1], outer, 1, r + 3);
      for (int64_t i = 0; i < n; ++i)
        acc[i] += (static_cast<A>(x0[i]) + static_cast<A>(x1[i])) + (static_cast<A>(x2[i]) + static_cast<A>(x3[i]));
    }
  }
  for (; r < rows; ++r) {
    char* a0 = p[0] + r * outer[0];
    char* x0 = p[1] + r * outer[1];
    if (s[0] == 0) {
      A total = 0;
      if (s[1] == sizeof(T)) {
        // 16 independent partial sums: vectorises, and the error grows like
        // n/16 roundings instead of n.
        const T* __restrict x = reinterpret_cast<const T*>(x0);
        A part[16] = {};
        int64_t i = 0;
        for (; i + 16 <= n; i += 16)
          for (int j = 0; j < 16; ++j) part[j] += static_cast<A>(x[i + j]);
        for (int w = 8; w >= 1; w /= 2)
          for (int j = 0; j < w; ++j) part[j] += part[j + w];
        total = part[0];
        for (; i < n; ++i) total += static_cast<A>(x[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) total += static_cast<A>(at<T>(x0, s[1], i));
      }
      *reinterpret_cast<A*>(a0) += total;
    } else if (s[0] == sizeof(A) && s[1] == sizeof(T)) {
      A* __restrict acc = reinterpret_cast<A*>(a0);
      const T* __restrict x = reinterpret_cast<const T*>(x0);
      for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<A>(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) at<A>(a0, s[0], i) += static_cast<A>(at<T>(x0, s[1], i));
    }
  }
}

template <class T, bool kMax>
inline T fold_extreme(T acc, T x) { return kMax ? nan_max(acc, x) : nan_min(acc, x); }

// acc[i] = extreme(acc[i], x[i]): an element-wise fold, which GCC vectorises
// (a 16-lane fold carried across iterations is not recognised as a reduction
// because of the NaN test, so runs are folded chunk by chunk through this too).
template <class T, bool kMax>
inline void fold_extreme_row(T* __restrict acc, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = fold_extreme<T, kMax>(acc[i], x[i]);
}

template <class T, bool kMax>
void reduce_extreme_loop(char** p, const int64_t* s, int64_t n, const int64_t* outer, int64_t rows) {
  constexpr int64_t kChunk = 64;
  for (int64_t r = 0; r < rows; ++r) {
    char* a0 = p[0] + r * outer[0];
    char* x0 = p[1] + r * outer[1];
    if (s[0] == 0 && s[1] == sizeof(T) && n >= 2 * kChunk) {
      const T* x = reinterpret_cast<const T*>(x0);
      T part[kChunk];
      for (int64_t j = 0; j < kChunk; ++j) part[j] = x[j];
      int64_t i = kChunk;
      for (; i + kChunk <= n; i += kChunk) fold_extreme_row<T, kMax>(part, x + i, kChunk);
      T acc = *reinterpret_cast<T*>(a0);
      for (int64_t j = 0; j < kChunk; ++j) acc = fold_extreme<T, kMax>(acc, part[j]);
      for (; i < n; ++i) acc = fold_extreme<T, kMax>(acc, x[i]);
      *reinterpret_cast<T*>(a0) = acc;
    } else if (s[0] == 0) {
      T acc = *reinterpret_cast<T*>(a0);
      for (int64_t i = 0; i < n; ++i) acc = fold_extreme<T, kMax>(acc, at<T>(x0, s[1], i));
      *reinterpret_cast<T*>(a0) = acc;
    } else if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
      fold_extreme_row<T, kMax>(reinterpret_cast<T*>(a0), reinterpret_cast<const T*>(x0), n);
    } else {
      for (int64_t i = 0; i < n; ++i) {
        T& a = at<T>(a0, s[0], i);
        a = fold_extreme<T, kMax>(a, at<T>(x0, s[1], i));
      }
    }
  }
}

// argmax/argmin: the first index of the extreme value (ties and NaN go to the
// smaller index, whatever order memory is walked in); a NaN is the extreme.
template <class T, bool kMax>
inline bool arg_better(T x, int64_t xi, T best, int64_t bi) {
  if (is_nan(x)) return !is_nan(best) || xi < bi;
  if (is_nan(best)) return false;
  if (x == best) return xi < bi;
  return kMax ? x > best : x < best;
}

template <class T, bool kMax>
void reduce_arg_loop(char** p, const int64_t* s, int64_t n, const int64_t* outer, int64_t rows) {
  for (int64_t r = 0; r < rows; ++r) {
    char* q[4];
    for (int k = 0; k < 4; ++k) q[k] = p[k] + r * outer[k];
    if (s[0] == 0 && s[1] == 0) {
      // The run lies along the axis and folds into one accumulator. Walking
      // the run in index order (di > 0) a strictly better value or the first
      // NaN wins; walking backwards (di < 0) ties and NaNs go to the later
      // element. Branch-free selects, then one merge with the accumulator.
      const int64_t i0 = *reinterpret_cast<const int64_t*>(q[3]), di = s[3] / 8;
      T best = at<T>(q[2], s[2], 0);
      int64_t bi = i0;
      if (di >= 0) {
        for (int64_t i = 1; i < n; ++i) {
          T x = at<T>(q[2], s[2], i);
          bool take = (kMax ? x > best : x < best) | (is_nan(x) & !is_nan(best));
          best = take ? x : best;
          bi = take ? i0 + i * di : bi;
        }
      } else {
        for (int64_t i = 1; i < n; ++i) {
          T x = at<T>(q[2], s[2], i);
          bool take = (kMax ? x >= best : x <= best) | is_nan(x);
          best = take ? x : best;
          bi = take ? i0 + i * di : bi;
        }
      }
      T& acc = *reinterpret_cast<T*>(q[0]);
      int64_t& acc_i = *reinterpret_cast<int64_t*>(q[1]);
      if (arg_better<T, kMax>(best, bi, acc, acc_i)) {
        acc = best;
        acc_i = bi;
      }
      continue;
    }
    for (int64_t i = 0; i < n; ++i) {
      T& best = at<T>(q[0], s[0], i);
      int64_t& bi = at<int64_t>(q[1], s[1], i);
      T x = at<T>(q[2], s[2], i);
      int64_t xi = at<int64_t>(q[3], s[3], i);
      if (arg_better<T, kMax>(x, xi, best, bi)) {
        best = x;
        bi = xi;
      }
    }
  }
}

// ---- fused optimizer updates (Note [Fused optimizer updates] in kernel_table.h) ----

template <class T>
void optim_sgd_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  const T lr = static_cast<T>(h[0]), mom = static_cast<T>(h[1]);
  if (h[1] == 0.0) {
    for (int64_t i = 0; i < n; ++i) var[i] -= lr * g[i];
    return;
  }
  T* __restrict m = reinterpret_cast<T*>(b[2]);
  if (h[2] != 0.0) {
    for (int64_t i = 0; i < n; ++i) {
      T mi = mom * m[i] - lr * g[i];
      m[i] = mi;
      var[i] += mom * mi - lr * g[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      T mi = mom * m[i] - lr * g[i];
      m[i] = mi;
      var[i] += mi;
    }
  }
}

template <class T>
void optim_rmsprop_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict v = reinterpret_cast<T*>(b[2]);
  const T lr = static_cast<T>(h[0]), rho = static_cast<T>(h[1]), mom = static_cast<T>(h[2]),
          eps = static_cast<T>(h[3]);
  if (h[2] > 0.0) {
    T* __restrict m = reinterpret_cast<T*>(b[3]);
    for (int64_t i = 0; i < n; ++i) {
      T vi = rho * v[i] + (T(1) - rho) * g[i] * g[i];
      v[i] = vi;
      T mi = mom * m[i] + lr * g[i] / vsqrt(vi + eps);
      m[i] = mi;
      var[i] -= mi;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      T vi = rho * v[i] + (T(1) - rho) * g[i] * g[i];
      v[i] = vi;
      var[i] -= lr * g[i] / vsqrt(vi + eps);
    }
  }
}

// Adam, and with kAmsgrad its AMSGrad form (a third slot keeps the largest v seen,
// which takes v's place in the step).
template <class T, bool kAmsgrad = false>
void optim_adam_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict m = reinterpret_cast<T*>(b[2]);
  T* __restrict v = reinterpret_cast<T*>(b[3]);
  T* __restrict vhat = kAmsgrad ? reinterpret_cast<T*>(b[4]) : nullptr;
  const T alpha = static_cast<T>(h[0]), b1 = static_cast<T>(h[1]), b2 = static_cast<T>(h[2]),
          eps = static_cast<T>(h[3]), decay = static_cast<T>(h[4]);
  for (int64_t i = 0; i < n; ++i) {
    T w = var[i] - decay * var[i];
    T gi = g[i];
    T mi = m[i] + (gi - m[i]) * (T(1) - b1);
    T vi = v[i] + (gi * gi - v[i]) * (T(1) - b2);
    m[i] = mi;
    v[i] = vi;
    if constexpr (kAmsgrad) {
      vi = nan_max(vhat[i], vi);
      vhat[i] = vi;
    }
    var[i] = w - alpha * mi / (vsqrt(vi) + eps);
  }
}

template <class T>
void optim_adagrad_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict a = reinterpret_cast<T*>(b[2]);
  const T lr = static_cast<T>(h[0]), eps = static_cast<T>(h[1]);
  for (int64_t i = 0; i < n; ++i) {
    T ai = a[i] + g[i] * g[i];
    a[i] = ai;
    var[i] -= lr * g[i] / vsqrt(ai + eps);
  }
}

template <class T>
void optim_adam_amsgrad_loop(char* const* b, int64_t n, const double* h) {
  optim_adam_loop<T, true>(b, n, h);
}

template <class T>
void optim_rmsprop_centered_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict v = reinterpret_cast<T*>(b[2]);
  T* __restrict mg = reinterpret_cast<T*>(b[3]);
  T* __restrict m = reinterpret_cast<T*>(b[4]);  // null without momentum
  const T lr = static_cast<T>(h[0]), rho = static_cast<T>(h[1]), mom = static_cast<T>(h[2]),
          eps = static_cast<T>(h[3]);
  const bool momentum = h[2] > 0.0;
  for (int64_t i = 0; i < n; ++i) {
    T gi = g[i];
    T vi = rho * v[i] + (T(1) - rho) * gi * gi;
    T ai = rho * mg[i] + (T(1) - rho) * gi;
    v[i] = vi;
    mg[i] = ai;
    T step = lr * gi / vsqrt(vi - ai * ai + eps);
    if (momentum) {
      step = mom * m[i] + step;
      m[i] = step;
    }
    var[i] -= step;
  }
}

template <class T>
void optim_adamax_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict m = reinterpret_cast<T*>(b[2]);
  T* __restrict u = reinterpret_cast<T*>(b[3]);
  const T lr = static_cast<T>(h[0]), b1 = static_cast<T>(h[1]), b2 = static_cast<T>(h[2]),
          eps = static_cast<T>(h[3]), bias1 = static_cast<T>(h[4]), decay = static_cast<T>(h[5]);
  for (int64_t i = 0; i < n; ++i) {
    T w = var[i] - decay * var[i];
    T gi = g[i];
    T mi = m[i] + (gi - m[i]) * (T(1) - b1);
    T ui = nan_max(b2 * u[i], gi < T(0) ? -gi : gi);
    m[i] = mi;
    u[i] = ui;
    var[i] = w - lr * mi / (bias1 * (ui + eps));
  }
}

template <class T>
void optim_nadam_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict m = reinterpret_cast<T*>(b[2]);
  T* __restrict v = reinterpret_cast<T*>(b[3]);
  const T lr = static_cast<T>(h[0]), b1 = static_cast<T>(h[1]), b2 = static_cast<T>(h[2]),
          eps = static_cast<T>(h[3]), cm = static_cast<T>(h[4]), cg = static_cast<T>(h[5]),
          bias2 = static_cast<T>(h[6]), decay = static_cast<T>(h[7]);
  for (int64_t i = 0; i < n; ++i) {
    T w = var[i] - decay * var[i];
    T gi = g[i];
    T mi = m[i] + (gi - m[i]) * (T(1) - b1);
    T vi = v[i] + (gi * gi - v[i]) * (T(1) - b2);
    m[i] = mi;
    v[i] = vi;
    var[i] = w - (cm * mi + cg * gi) * lr / (vsqrt(vi / bias2) + eps);
  }
}

template <class T>
void optim_adadelta_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict ag = reinterpret_cast<T*>(b[2]);
  T* __restrict ad = reinterpret_cast<T*>(b[3]);
  const T lr = static_cast<T>(h[0]), rho = static_cast<T>(h[1]), eps = static_cast<T>(h[2]),
          decay = static_cast<T>(h[3]);
  for (int64_t i = 0; i < n; ++i) {
    T w = var[i] - decay * var[i];
    T gi = g[i];
    T agi = rho * ag[i] + (T(1) - rho) * gi * gi;
    T d = -(vsqrt(ad[i] + eps) * gi / vsqrt(agi + eps));
    ag[i] = agi;
    ad[i] = rho * ad[i] + (T(1) - rho) * d * d;
    var[i] = w + lr * d;
  }
}

template <class T>
void optim_lion_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict m = reinterpret_cast<T*>(b[2]);
  const T lr = static_cast<T>(h[0]), b1 = static_cast<T>(h[1]), b2 = static_cast<T>(h[2]),
          decay = static_cast<T>(h[3]);
  for (int64_t i = 0; i < n; ++i) {
    T w = var[i] - decay * var[i];
    T c = m[i] * b1 + g[i] * (T(1) - b1);
    T s = c > T(0) ? T(1) : (c < T(0) ? T(-1) : c);  // sign; 0 and NaN pass through
    var[i] = w - lr * s;
    m[i] = m[i] * b2 + g[i] * (T(1) - b2);
  }
}

template <class T>
void optim_ftrl_loop(char* const* b, int64_t n, const double* h) {
  T* __restrict var = reinterpret_cast<T*>(b[0]);
  const T* __restrict g = reinterpret_cast<const T*>(b[1]);
  T* __restrict acc = reinterpret_cast<T*>(b[2]);
  T* __restrict lin = reinterpret_cast<T*>(b[3]);
  const T lr = static_cast<T>(h[0]), l1 = static_cast<T>(h[2]), l2 = static_cast<T>(h[3]),
          shrink = static_cast<T>(h[4]), decay = static_cast<T>(h[5]);
  const T q = static_cast<T>(-h[1]);  // n^-p with p = learning_rate_power <= 0
  const bool root = h[1] == -0.5;
  auto power = [&](T x) { return root ? vsqrt(x) : static_cast<T>(std::pow(x, q)); };
  for (int64_t i = 0; i < n; ++i) {
    T w = var[i] - decay * var[i];
    T gi = g[i];
    T ni = acc[i] + gi * gi;
    T pn = power(ni);
    T zi = lin[i] + ((gi + T(2) * shrink * w) - (pn - power(acc[i])) / lr * w);
    T quadratic = pn / lr + T(2) * l2;
    T clipped = zi < -l1 ? -l1 : (zi > l1 ? l1 : zi);
    lin[i] = zi;
    acc[i] = ni;
    var[i] = (clipped - zi) / quadratic;
  }
}

// ---- row kernels: softmax, log_softmax, fused cross-entropy (Note [Row kernels]) ----

template <class T, RowsKernel K>
void rows_loop(const RowsArgs& a) {
  for (int64_t r = 0; r < a.rows; ++r) {
    const char* xr = a.x + r * a.x_rs;
    char* outr = a.out ? a.out + r * a.out_rs : nullptr;
    const bool contiguous = a.x_cs == sizeof(T) && (!outr || a.out_cs == sizeof(T));
    auto X = [&](int64_t c) { return *reinterpret_cast<const T*>(xr + c * a.x_cs); };
    T m = -__builtin_inf();
    for (int64_t c = 0; c < a.cols; ++c) m = nan_max(m, X(c));
    if (m == -__builtin_inf()) m = 0;  // an all -inf row: keep exp(x - m) well defined
    T s = 0;
    if (outr && contiguous) {
      // exp(x - m) into out (vectorised), then the sum.
      const T* __restrict xp = reinterpret_cast<const T*>(xr);
      T* __restrict op = reinterpret_cast<T*>(outr);
      for (int64_t c = 0; c < a.cols; ++c) op[c] = vmath::exp(xp[c] - m);
      for (int64_t c = 0; c < a.cols; ++c) s += op[c];
    } else {
      for (int64_t c = 0; c < a.cols; ++c) s += vmath::exp(X(c) - m);
    }
    const T log_s = vmath::log(s), inv_s = T(1) / s;
    auto O = [&](int64_t c) -> T& { return *reinterpret_cast<T*>(outr + c * a.out_cs); };
    auto E = [&](int64_t c) { return contiguous ? O(c) : vmath::exp(X(c) - m); };  // exp(x - m)
    if constexpr (K == RowsKernel::softmax) {
      for (int64_t c = 0; c < a.cols; ++c) O(c) = E(c) * inv_s;
    } else if constexpr (K == RowsKernel::log_softmax) {
      for (int64_t c = 0; c < a.cols; ++c) O(c) = X(c) - m - log_s;
    } else if constexpr (K == RowsKernel::xent_labels) {
      const int64_t label = *reinterpret_cast<const int64_t*>(a.target + r * a.t_rs);
      const T lse = m + log_s;
      *reinterpret_cast<T*>(a.loss + r * a.loss_s) = lse - X(label);
      if (outr) {
        const T sc = static_cast<T>(a.scale);
        for (int64_t c = 0; c < a.cols; ++c) O(c) = E(c) * inv_s * sc;
        O(label) -= sc;
      }
    } else {
      const char* tr = a.target + r * a.t_rs;
      auto Tg = [&](int64_t c) { return *reinterpret_cast<const T*>(tr + c * a.t_cs); };
      const T lse = m + log_s;
      T loss = 0;
      for (int64_t c = 0; c < a.cols; ++c) loss += Tg(c) * (lse - X(c));
      *reinterpret_cast<T*>(a.loss + r * a.loss_s) = loss;
      if (outr) {
        const T sc = static_cast<T>(a.scale);
        for (int64_t c = 0; c < a.cols; ++c) O(c) = (E(c) * inv_s - Tg(c)) * sc;
      }
    }
  }
}
