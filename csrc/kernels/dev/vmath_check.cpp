// vmath_check: accuracy of csrc/kernels/vmath.h against long double libm.
// A developer tool, not part of the build. From the project root, once per ISA:
//   g++ -std=c++17 -O3 -fno-trapping-math -Icsrc csrc/kernels/dev/vmath_check.cpp -o /tmp/vm_generic
//   g++ -std=c++17 -O3 -fno-trapping-math -mavx2 -mfma -Icsrc csrc/kernels/dev/vmath_check.cpp -o /tmp/vm_avx2
//   g++ -std=c++17 -O3 -fno-trapping-math -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma -mprefer-vector-width=512 \
//       -Icsrc csrc/kernels/dev/vmath_check.cpp -o /tmp/vm_avx512
// Every 61st finite float bit pattern is checked (in vectorised loops, as pynn runs them) with
// FTZ/DAZ on; doubles on 4 million random values and the edge cases. Prints
// the worst error in ulps of the correctly rounded result and any mismatch of
// special values, then ns per element at 1e6 elements.
#include <xmmintrin.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/vmath.h"

namespace vm = pynn::vmath;

template <class T> using Fn = T (*)(T);

// The vectorisable loops under test.
#define LOOP(name)                                                                            \
  template <class T> __attribute__((noinline)) void loop_##name(const T* __restrict x, T* __restrict y, long n) { \
    for (long i = 0; i < n; ++i) y[i] = vm::name(x[i]);                                         \
  }
LOOP(exp) LOOP(log) LOOP(tanh) LOOP(sigmoid)

long double ref(const char* f, long double x) {
  if (!std::strcmp(f, "exp")) return expl(x);
  if (!std::strcmp(f, "log")) return logl(x);
  if (!std::strcmp(f, "tanh")) return tanhl(x);
  return 1.0L / (1.0L + expl(-x));
}

// Error in units of the last place of the reference rounded to T. Results
// (or references) below T's smallest normal count as 0 under FTZ.
template <class T> double ulp_err(T got, long double want) {
  const T tiny = std::numeric_limits<T>::min();
  if (std::isnan((double)want)) return std::isnan((double)got) ? 0 : 1e9;
  if (std::fabs((double)want) < (double)tiny) want = 0;
  if (std::isinf((double)want) || std::fabs(want) > (long double)std::numeric_limits<T>::max())
    return (std::isinf((double)got) && (got > 0) == (want > 0)) ? 0 : 1e9;
  if (want == 0) return std::fabs((double)got) < (double)tiny ? 0 : 1e9;
  T w = (T)want;
  T up = std::nextafter(w, std::numeric_limits<T>::infinity());
  long double ulp = (long double)up - (long double)w;
  return (double)(std::fabs((long double)got - want) / ulp);
}

// By the bits: under DAZ every floating-point test (fpclassify too) sees 0.
bool is_subnormal(float x) { uint32_t b; std::memcpy(&b, &x, 4); return (b & 0x7f800000u) == 0 && (b & 0x007fffffu) != 0; }
bool is_subnormal(double x) {
  uint64_t b;
  std::memcpy(&b, &x, 8);
  return (b & 0x7ff0000000000000ull) == 0 && (b & 0x000fffffffffffffull) != 0;
}

template <class T> void report(const char* name, const std::vector<T>& xs, void (*loop)(const T*, T*, long)) {
  std::vector<T> ys(xs.size());
  loop(xs.data(), ys.data(), (long)xs.size());
  double worst = 0;
  T worst_x = 0;
  long bad = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    long double in = (long double)xs[i];
    if (is_subnormal(xs[i])) in = 0;  // DAZ reads it as 0
    double e = ulp_err<T>(ys[i], ref(name, in));
    if (e >= 1e9) ++bad;
    else if (e > worst) { worst = e; worst_x = xs[i]; }
  }
  std::printf("  %-8s %-6s max %.2f ulp (at %.9g), %ld special-value mismatches, %zu inputs\n", name,
              sizeof(T) == 4 ? "float" : "double", worst, (double)worst_x, bad, xs.size());
}

template <class T> void speed(const char* name, void (*loop)(const T*, T*, long)) {
  std::vector<T> x(1000000), y(x.size());
  std::mt19937 g(1);
  std::uniform_real_distribution<double> d(-10, 10);
  for (auto& v : x) v = (T)(std::strcmp(name, "log") ? d(g) : std::fabs(d(g)) + 1e-3);
  loop(x.data(), y.data(), (long)x.size());
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < 20; ++r) loop(x.data(), y.data(), (long)x.size());
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / 20 / x.size();
  std::printf("  %-8s %-6s %.3f ns/element\n", name, sizeof(T) == 4 ? "float" : "double", ns);
}

int main() {
  _mm_setcsr(_mm_getcsr() | 0x8040);  // FTZ + DAZ, as pynn's kernels run
  std::vector<float> all;
  all.reserve(1u << 31);
  for (uint64_t b = 0; b < (1ull << 32); b += 61) {  // every 61st pattern: all exponents, 70M values
    float f;
    uint32_t u = (uint32_t)b;
    std::memcpy(&f, &u, 4);
    if (std::isfinite(f)) all.push_back(f);
    if (all.size() == (1u << 28)) {  // in batches of 2^28 to bound memory
      report("exp", all, loop_exp<float>); report("log", all, loop_log<float>);
      report("tanh", all, loop_tanh<float>); report("sigmoid", all, loop_sigmoid<float>);
      all.clear();
    }
  }
  report("exp", all, loop_exp<float>); report("log", all, loop_log<float>);
  report("tanh", all, loop_tanh<float>); report("sigmoid", all, loop_sigmoid<float>);
  std::vector<float> special = {0.f, -0.f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 88.72f, 88.73f, -87.3f, -103.9f, 1e30f, -1e30f};
  report("exp", special, loop_exp<float>); report("log", special, loop_log<float>);
  report("tanh", special, loop_tanh<float>); report("sigmoid", special, loop_sigmoid<float>);

  std::vector<double> ds;
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> wide(-745, 710), unit(-1, 1);
  for (int i = 0; i < 2000000; ++i) ds.push_back(wide(g));
  for (int i = 0; i < 2000000; ++i) ds.push_back(unit(g) * std::pow(10.0, (int)(g() % 40) - 30));
  for (double v : std::initializer_list<double>{0.0, -0.0, (double)INFINITY, -(double)INFINITY, (double)NAN, 5e-324, 709.78, 709.79, -708.4, -745.2, 1e300, -1e300, 0.55, -0.55, 0.5499999})
    ds.push_back(v);
  std::vector<double> dpos;
  for (double v : ds) dpos.push_back(std::fabs(v) * (v < 0 ? 1e-3 : 1.0));
  report("exp", ds, loop_exp<double>); report("log", dpos, loop_log<double>);
  report("tanh", ds, loop_tanh<double>); report("sigmoid", ds, loop_sigmoid<double>);
  std::puts("speed (1e6 elements, one thread):");
  speed<float>("exp", loop_exp<float>); speed<float>("log", loop_log<float>);
  speed<float>("tanh", loop_tanh<float>); speed<float>("sigmoid", loop_sigmoid<float>);
  speed<double>("exp", loop_exp<double>); speed<double>("log", loop_log<double>);
  speed<double>("tanh", loop_tanh<double>); speed<double>("sigmoid", loop_sigmoid<double>);
}
