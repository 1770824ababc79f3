// vmath.h: exp, log, tanh and sigmoid that GCC vectorises inside plain loops.
//
// Note [vmath]
// libm's functions are calls GCC cannot vectorise, so the element-wise loops
// (kernels_isa.cpp, compiled once per ISA) use these instead. Each function is
// straight-line code with selects (no branches, no calls, no tables), so
// `for (i...) out[i] = vmath::exp(in[i])` becomes SIMD code for SSE2, AVX2 and
// AVX-512. GCC turns the selects into blends only with -fno-trapping-math
// (set in CMakeLists.txt; pynn never enables floating-point traps). Everything is `static inline`: this header is compiled with
// different ISA flags in different files, and internal linkage keeps the
// linker from handing one file's AVX-512 copy to another file's generic code.
//
// exp(x): x = n ln2 + r with n = round(x / ln2) (rounded with the 1.5*2^23 /
//   1.5*2^52 trick, which needs no SSE4.1) and ln2 split in two (Cody-Waite) so
//   r is exact to a few ulp; |r| <= ln2/2. e^r by its Taylor polynomial: degree
//   7 for float (truncation 5e-9 relative), 13 for double (4e-18). 2^n is built
//   from exponent bits in two halves, so n up to +-250 scales without
//   overflowing the bit pattern; overflow gives +inf and underflow 0.
// log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)) (found by integer
//   arithmetic on the bits), f = m - 1, s = f / (2 + f)
//   and log(m) = 2 atanh(s) = 2s (1 + s^2/3 + s^4/5 + ...), |s| <= 0.1716:
//   terms to s^11 for float, to s^23 for double. e ln2 is added in two parts.
// tanh(x): the odd Taylor series (exact coefficients from Bernoulli numbers) for
//   |x| < 0.55, 10 terms for float and 20 for double (truncation below 1e-8 and
//   1e-17 relative); else sign(x) (1 - 2 / (e^{2|x|} + 1)), exactly +-1 once
//   e^{2|x|} overflows or 2 / (e^{2|x|} + 1) drops below half an ulp of 1.
// sigmoid(x) = 1 / (1 + e^{-x}): relative accuracy of exp carries over for very
//   negative x (the result is ~e^x); 0 below the float range, 1 above.
//
// Subnormals: pynn runs its kernels with FTZ/DAZ (Note [Threads]), so results
// below the smallest normal number are 0, and log of a subnormal input, which
// DAZ reads as 0, is -inf. Special values follow the C library: exp(+-inf) =
// +inf / 0, log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf, tanh(+-inf) =
// +-1, sigmoid(-inf) = 0, sigmoid(+inf) = 1, NaN in gives NaN out.
// Accuracy measured against long double (csrc/kernels/dev/vmath_check.cpp)
// is in README.md's "Numerics".
#pragma once

#include <cstdint>

namespace pynn {
namespace vmath {

static inline uint32_t bits(float x) { return __builtin_bit_cast(uint32_t, x); }
static inline uint64_t bits(double x) { return __builtin_bit_cast(uint64_t, x); }
static inline float float_from(uint32_t b) { return __builtin_bit_cast(float, b); }
static inline double double_from(uint64_t b) { return __builtin_bit_cast(double, b); }

// ---------------------------------------------------------------- exp

static inline float exp(float x) {
  // NaN compares false and lands on -104, so the int conversion below stays
  // defined (the result is NaN all the same).
  const float xc = x > -104.0f ? (x < 89.0f ? x : 89.0f) : -104.0f;
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float fn = (xc * 1.44269504088896341f + shifter) - shifter;
  const float r = (xc - fn * 0.693359375f) - fn * -2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t n = static_cast<int32_t>(fn);
  const int32_t n1 = n >> 1, n2 = n - n1;
  const float s1 = float_from(static_cast<uint32_t>(n1 + 127) << 23);
  const float s2 = float_from(static_cast<uint32_t>(n2 + 127) << 23);
  const float y = p * s1 * s2;
  return x != x ? x : y;
}

static inline double exp(double x) {
  const double xc = x > -760.0 ? (x < 710.0 ? x : 710.0) : -760.0;  // NaN -> -760, as above
  const double shifter = 6755399441055744.0;  // 1.5 * 2^52
  const double fn = (xc * 1.4426950408889634074 + shifter) - shifter;
  const double r = (xc - fn * 6.93147180369123816490e-01) - fn * 1.90821492927058770002e-10;
  double p = 1.60590438368216133e-10;
  p = p * r + 2.08767569878681002e-09;
  p = p * r + 2.50521083854417202e-08;
  p = p * r + 2.75573192239858883e-07;
  p = p * r + 2.75573192239858925e-06;
  p = p * r + 2.48015873015873016e-05;
  p = p * r + 1.98412698412698413e-04;
  p = p * r + 1.38888888888888894e-03;
  p = p * r + 8.33333333333333322e-03;
  p = p * r + 4.16666666666666644e-02;
  p = p * r + 1.66666666666666657e-01;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const int32_t n = static_cast<int32_t>(fn);
  const int32_t n1 = n >> 1, n2 = n - n1;
  const double s1 = double_from(static_cast<uint64_t>(static_cast<int64_t>(n1) + 1023) << 52);
  const double s2 = double_from(static_cast<uint64_t>(static_cast<int64_t>(n2) + 1023) << 52);
  const double y = p * s1 * s2;
  return x != x ? x : y;
}

// ---------------------------------------------------------------- log

static inline float log(float x) {
  // Offsetting the bits moves the exponent's step from 1 to sqrt(1/2), so
  // m lands in [sqrt(1/2), sqrt(2)) with integer arithmetic and no select.
  const uint32_t ix = bits(x) + (0x3f800000u - 0x3f3504f3u);
  const int32_t e = static_cast<int32_t>(ix >> 23) - 127;
  const float m = float_from((ix & 0x007fffffu) + 0x3f3504f3u);
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  float p = 1.0f / 11.0f;
  p = p * z + 1.0f / 9.0f;
  p = p * z + 1.0f / 7.0f;
  p = p * z + 1.0f / 5.0f;
  p = p * z + 1.0f / 3.0f;
  const float fe = static_cast<float>(e);
  const float logm = 2.0f * s + 2.0f * s * z * p;
  const float y = fe * 0.693359375f + (fe * -2.12194440e-4f + logm);
  const float inf = __builtin_inff();
  float out = x < 1.17549435e-38f ? -inf : y;  // 0 and (DAZ) subnormals
  out = x == inf ? inf : out;
  out = x < 0.0f ? __builtin_nanf("") : out;
  return x != x ? x : out;
}

static inline double log(double x) {
  const uint64_t ix = bits(x) + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull);
  const int32_t e = static_cast<int32_t>(ix >> 52) - 1023;
  const double m = double_from((ix & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull);
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  double p = 1.0 / 23.0;
  p = p * z + 1.0 / 21.0;
  p = p * z + 1.0 / 19.0;
  p = p * z + 1.0 / 17.0;
  p = p * z + 1.0 / 15.0;
  p = p * z + 1.0 / 13.0;
  p = p * z + 1.0 / 11.0;
  p = p * z + 1.0 / 9.0;
  p = p * z + 1.0 / 7.0;
  p = p * z + 1.0 / 5.0;
  p = p * z + 1.0 / 3.0;
  const double de = static_cast<double>(e);
  const double logm = 2.0 * s + 2.0 * s * z * p;
  const double y = de * 6.93147180369123816490e-01 + (de * 1.90821492927058770002e-10 + logm);
  const double inf = __builtin_inf();
  double out = x < 2.2250738585072014e-308 ? -inf : y;
  out = x == inf ? inf : out;
  out = x < 0.0 ? __builtin_nan("") : out;
  return x != x ? x : out;
}

// ---------------------------------------------------------------- tanh

static inline float tanh(float x) {
  const float a = __builtin_fabsf(x);
  // |x| < 0.55: odd series in x.
  const float z = x * x;
  float p = -2.39129114e-04f;
  p = p * z + 5.90027441e-04f;
  p = p * z + -1.45583439e-03f;
  p = p * z + 3.59212804e-03f;
  p = p * z + -8.86323553e-03f;
  p = p * z + 2.18694885e-02f;
  p = p * z + -5.39682540e-02f;
  p = p * z + 1.33333333e-01f;
  p = p * z + -3.33333333e-01f;
  const float small = x + x * z * p;
  // |x| >= 0.55: 1 - 2 / (e^{2|x|} + 1), with the sign of x.
  const float large = 1.0f - 2.0f / (exp(2.0f * a) + 1.0f);
  const float signed_large = x < 0.0f ? -large : large;
  return a < 0.55f ? small : signed_large;
}

static inline double tanh(double x) {
  const double a = __builtin_fabs(x);
  const double z = x * x;
  double p = -2.85913666230525398e-08;
  p = p * z + 7.05463694640096814e-08;
  p = p * z + -1.74066189635716480e-07;
  p = p * z + 4.29491107827380574e-07;
  p = p * z + -1.05972683201046543e-06;
  p = p * z + 2.61477115129075465e-06;
  p = p * z + -6.45168921565543065e-06;
  p = p * z + 1.59189050693289637e-05;
  p = p * z + -3.92783238833168327e-05;
  p = p * z + 9.69153795692945095e-05;
  p = p * z + -2.39129114243552478e-04;
  p = p * z + 5.90027440945585947e-04;
  p = p * z + -1.45583438705131833e-03;
  p = p * z + 3.59212803657248114e-03;
  p = p * z + -8.86323552990219733e-03;
  p = p * z + 2.18694885361552030e-02;
  p = p * z + -5.39682539682539708e-02;
  p = p * z + 1.33333333333333331e-01;
  p = p * z + -3.33333333333333315e-01;
  const double small = x + x * z * p;
  const double large = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
  const double signed_large = x < 0.0 ? -large : large;
  return a < 0.55 ? small : signed_large;
}

// ---------------------------------------------------------------- sigmoid

static inline float sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }
static inline double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

}  // namespace vmath
}  // namespace pynn
