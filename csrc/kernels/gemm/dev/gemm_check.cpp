// gemm_check.cpp: developer harness for the GEMM kernels (not part of the
// library build). From the project root:
//
//   g++ -std=c++17 -O3 -fopenmp -Icsrc csrc/core/*.cpp csrc/kernels/gemm/*.cpp
//       csrc/kernels/gemm/dev/gemm_check.cpp -o /tmp/gemm_check
//   /tmp/gemm_check check         # correctness, every ISA this CPU supports
//   /tmp/gemm_check bench [isa]   # GFLOP/s, 1 and 2 threads (isa: generic|avx2|avx512)
//   /tmp/gemm_check all
//
// The ISA files switch their target with #pragma, so no per-file flags are
// needed (Note [GEMM ISA files]).
//
// Correctness: every ISA against a double-precision triple loop over shapes
// built from {0, 1, 2, MR-1, MR, MR+1, NR+1, KC+1, ~1000}, the four transpose
// combinations, negative and non-unit strides, alpha/beta variants (C full of
// NaN when beta == 0), 1 and 2 threads. Gaps between the elements of A and B
// hold NaN (so reading one poisons the result) and gaps in C hold a sentinel
// that must survive. f32: relative Frobenius error < 1e-5, f64 < 1e-12;
// integer paths exactly.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/gemm/gemm.h"

namespace {

using pynn::CpuIsa;

// A strided view into its own buffer. layout: 0 row-major, 1 column-major
// (the transpose of a row-major matrix), 2 row-major with padded rows and
// every other column, 3 row-major with both strides negative, 4 column-major
// with negative column stride.
template <class T>
struct Mat {
  int64_t rows = 0, cols = 0, rs = 0, cs = 0, off = 0;
  std::vector<T> buf;  // (T = bool uses Byte below: vector<bool> has no data())
  T* ptr() { return buf.empty() ? nullptr : buf.data() + off; }
  T& at(int64_t i, int64_t j) { return buf[off + i * rs + j * cs]; }
};

template <class T>
Mat<T> make_mat(int64_t rows, int64_t cols, int layout, T gap) {
  Mat<T> M;
  M.rows = rows;
  M.cols = cols;
  int64_t r = std::max<int64_t>(rows, 1), c = std::max<int64_t>(cols, 1);
  int64_t size = 0;
  switch (layout) {
    case 0: M.rs = c; M.cs = 1; size = r * c; break;
    case 1: M.rs = 1; M.cs = r; size = r * c; break;
    case 2: M.rs = 2 * c + 3; M.cs = 2; size = r * M.rs; break;
    case 3: M.rs = -c; M.cs = -1; M.off = r * c - 1; size = r * c; break;
    default: M.rs = 1; M.cs = -(r + 1); M.off = (c - 1) * (r + 1); size = c * (r + 1); break;
  }
  if (rows == 0 || cols == 0) return M;  // null pointer allowed
  M.buf.assign(size, gap);
  return M;
}

std::mt19937_64 rng(12345);

template <class T>
void fill_random(Mat<T>& M) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int64_t i = 0; i < M.rows; ++i)
    for (int64_t j = 0; j < M.cols; ++j) M.at(i, j) = static_cast<T>(u(rng));
}

template <class T>
struct Gemm;
template <>
struct Gemm<float> {
  static constexpr double kTol = 1e-5;
  static void run(bool ref, int64_t m, int64_t n, int64_t k, float al, const float* A, int64_t a1,
                  int64_t a2, const float* B, int64_t b1, int64_t b2, float be, float* C,
                  int64_t c1, int64_t c2) {
    (ref ? pynn::gemm_f32_reference : pynn::gemm_f32)(m, n, k, al, A, a1, a2, B, b1, b2, be, C, c1, c2);
  }
  static pynn::GemmInfo info() { return pynn::gemm_info_f32(); }
  static const char* name() { return "f32"; }
};
template <>
struct Gemm<double> {
  static constexpr double kTol = 1e-12;
  static void run(bool ref, int64_t m, int64_t n, int64_t k, double al, const double* A,
                  int64_t a1, int64_t a2, const double* B, int64_t b1, int64_t b2, double be,
                  double* C, int64_t c1, int64_t c2) {
    (ref ? pynn::gemm_f64_reference : pynn::gemm_f64)(m, n, k, al, A, a1, a2, B, b1, b2, be, C, c1, c2);
  }
  static pynn::GemmInfo info() { return pynn::gemm_info_f64(); }
  static const char* name() { return "f64"; }
};

int g_failures = 0;
int64_t g_cases = 0;
double g_worst[2] = {0, 0};

// One case; returns false on failure (printed).
template <class T>
bool check_case(bool ref, int64_t m, int64_t n, int64_t k, int la, int lb, int lc, double alpha,
                double beta, int threads) {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T sentinel = T(12345.0);
  Mat<T> A = make_mat<T>(m, k, la, nan), B = make_mat<T>(k, n, lb, nan);
  Mat<T> C = make_mat<T>(m, n, lc, sentinel);
  fill_random(A);
  fill_random(B);
  if (beta == 0) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) C.at(i, j) = nan;
  } else {
    fill_random(C);
  }
  std::vector<double> want(size_t(m * n));
  double norm = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += double(A.at(i, p)) * double(B.at(p, j));
      double w = alpha * s + (beta == 0 ? 0.0 : beta * double(C.at(i, j)));
      want[size_t(i * n + j)] = w;
      norm += w * w;
    }
  pynn::set_num_threads(threads);
  Gemm<T>::run(ref, m, n, k, T(alpha), A.ptr(), A.rs, A.cs, B.ptr(), B.rs, B.cs, T(beta), C.ptr(),
               C.rs, C.cs);
  double err = 0;
  bool finite = true;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double got = double(C.at(i, j));
      if (!std::isfinite(got)) finite = false;
      double d = got - want[size_t(i * n + j)];
      err += d * d;
    }
  // Everything outside the view must be untouched.
  std::vector<char> inside(C.buf.size(), 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) inside[size_t(C.off + i * C.rs + j * C.cs)] = 1;
  bool gaps_ok = true;
  for (size_t q = 0; q < C.buf.size(); ++q)
    if (!inside[q] && !(C.buf[q] == sentinel)) gaps_ok = false;
  double rel = norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
  ++g_cases;
  double& worst = g_worst[sizeof(T) == 8];
  if (finite) worst = std::max(worst, rel);
  if (!finite || !gaps_ok || !(rel < Gemm<T>::kTol)) {
    if (++g_failures <= 30)
      std::printf("FAIL %s %s m=%lld n=%lld k=%lld layouts A%d B%d C%d alpha=%g beta=%g threads=%d: "
                  "rel err %.3g finite=%d gaps_ok=%d\n",
                  Gemm<T>::name(), ref ? "reference" : Gemm<T>::info().isa, (long long)m,
                  (long long)n, (long long)k, la, lb, lc, alpha, beta, threads, rel, finite, gaps_ok);
    return false;
  }
  return true;
}

template <class T>
void check_float(bool ref) {
  pynn::GemmInfo gi = Gemm<T>::info();
  if (ref) gi = {"generic", 4, sizeof(T) == 4 ? 8 : 4, 0, 256, 0};
  const int64_t MR = gi.mr, NR = gi.nr, KC = gi.kc;
  std::vector<int64_t> dims = {0, 1, 2, MR - 1, MR, MR + 1, NR + 1, KC + 1, 997};
  std::sort(dims.begin(), dims.end());
  dims.erase(std::unique(dims.begin(), dims.end()), dims.end());
  const double ab[][2] = {{1, 0}, {2.5, 0}, {1, 1}, {-0.5, 0.75}, {0, 2}, {1.5, -1}};
  int64_t variant = 0;
  const int64_t before = g_failures;
  for (int64_t m : dims)
    for (int64_t n : dims)
      for (int64_t k : dims) {
        if (double(m) * n * k > 3e7) continue;
        // All four transpose combinations; the other variants rotate.
        for (int t = 0; t < 4; ++t, ++variant) {
          const int la = (t & 1) ? 1 : 0, lb = (t & 2) ? 1 : 0;
          const int mode = int(variant % 4);
          int la2 = la, lb2 = lb, lc = 0;
          if (mode == 1) la2 = la ? 4 : 3, lb2 = lb ? 4 : 3, lc = 3;   // negative strides
          if (mode == 2) la2 = la ? 1 : 2, lb2 = lb ? 2 : 1, lc = 2;   // non-unit strides
          if (mode == 3) lc = 1;                                        // column-major C
          const double* albe = ab[variant % 6];
          const int threads = 1 + int((variant / 2) % 2);
          check_case<T>(ref, m, n, k, la2, lb2, lc, albe[0], albe[1], threads);
        }
      }
  // Large k (f32 error grows with k), MLP shapes, and the thread split.
  const int64_t big[][3] = {{64, 64, 4096}, {33, 70, 4096}, {128, 512, 784}, {128, 10, 512},
                            {512, 10, 128}, {128, 512, 10}, {784, 512, 128}, {300, 300, 300},
                            {1, 1000, 1000}, {1000, 1, 1000}, {257, 1031, 33}};
  for (auto& s : big)
    for (int t = 0; t < 4; ++t)
      for (int threads = 1; threads <= 2; ++threads)
        check_case<T>(ref, s[0], s[1], s[2], t & 1, (t >> 1) & 1, t == 3 ? 1 : 0, 1.0,
                      t == 2 ? 0.5 : 0.0, threads);
  std::printf("  %s %-9s %s (MR=%d NR=%d KC=%lld)\n", Gemm<T>::name(), ref ? "reference" : gi.isa,
              g_failures == before ? "ok" : "FAILED", gi.mr, gi.nr, (long long)gi.kc);
}

// ---------------------------------------------------------------- integers

template <class T, class U>
void check_int_type(const char* name,
                    void (*fn)(int64_t, int64_t, int64_t, const T*, int64_t, int64_t, const T*,
                               int64_t, int64_t, T*, int64_t, int64_t),
                    bool is_bool) {
  const int64_t shapes[][3] = {{0, 3, 4}, {3, 0, 4}, {3, 4, 0}, {1, 1, 1}, {7, 9, 5},
                               {33, 17, 300}, {64, 300, 64}, {5, 700, 3}};
  std::uniform_int_distribution<int64_t> u(-3000000000LL, 3000000000LL);
  const int64_t before = g_failures;
  for (auto& s : shapes)
    for (int lay = 0; lay < 5; ++lay)
      for (int threads = 1; threads <= 2; ++threads) {
        const int64_t m = s[0], n = s[1], k = s[2];
        Mat<T> A = make_mat<T>(m, k, lay, T(0)), B = make_mat<T>(k, n, (lay + 2) % 5, T(0));
        Mat<T> C = make_mat<T>(m, n, (lay + 1) % 5, T(7));
        for (int64_t i = 0; i < m; ++i)
          for (int64_t p = 0; p < k; ++p) A.at(i, p) = is_bool ? T(u(rng) % 3 == 0) : T(u(rng));
        for (int64_t p = 0; p < k; ++p)
          for (int64_t j = 0; j < n; ++j) B.at(p, j) = is_bool ? T(u(rng) % 3 == 0) : T(u(rng));
        pynn::set_num_threads(threads);
        fn(m, n, k, A.ptr(), A.rs, A.cs, B.ptr(), B.rs, B.cs, C.ptr(), C.rs, C.cs);
        bool ok = true;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            U s = 0;
            bool any = false;
            for (int64_t p = 0; p < k; ++p) {
              s = U(s + U(A.at(i, p)) * U(B.at(p, j)));
              any = any || (A.at(i, p) && B.at(p, j));
            }
            T want = is_bool ? T(any) : T(s);
            if (!(C.at(i, j) == want)) ok = false;
          }
        ++g_cases;
        if (!ok && ++g_failures <= 30)
          std::printf("FAIL %s m=%lld n=%lld k=%lld layout %d threads %d\n", name, (long long)m,
                      (long long)n, (long long)k, lay, threads);
      }
  std::printf("  %-4s %s\n", name, g_failures == before ? "ok" : "FAILED");
}

// A byte that converts like bool (std::vector<bool> is packed bits).
struct Byte {
  bool v = false;
  Byte() = default;
  Byte(bool x) : v(x) {}
  operator bool() const { return v; }
};
static_assert(sizeof(Byte) == 1, "");

void gemm_bool_bytes(int64_t m, int64_t n, int64_t k, const Byte* A, int64_t rsa, int64_t csa,
                     const Byte* B, int64_t rsb, int64_t csb, Byte* C, int64_t rsc, int64_t csc) {
  pynn::gemm_bool(m, n, k, reinterpret_cast<const bool*>(A), rsa, csa,
                  reinterpret_cast<const bool*>(B), rsb, csb, reinterpret_cast<bool*>(C), rsc, csc);
}

void check_all() {
  const CpuIsa best = pynn::cpu_isa_supported();
  std::printf("correctness (best ISA: %s)\n", pynn::cpu_isa_name(best));
  check_float<float>(true);
  check_float<double>(true);
  for (int i = 0; i <= int(best); ++i) {
    pynn::set_cpu_isa(CpuIsa(i));
    check_float<float>(false);
    check_float<double>(false);
  }
  pynn::set_cpu_isa(best);
  check_int_type<int32_t, uint32_t>("i32", pynn::gemm_i32, false);
  check_int_type<int64_t, uint64_t>("i64", pynn::gemm_i64, false);
  check_int_type<uint8_t, uint8_t>("u8", pynn::gemm_u8, false);
  check_int_type<Byte, uint8_t>("bool", gemm_bool_bytes, true);
  std::printf("%lld cases, %d failures; worst relative error f32 %.3g, f64 %.3g\n",
              (long long)g_cases, g_failures, g_worst[0], g_worst[1]);
}

// ---------------------------------------------------------------- timing

struct Shape {
  const char* name;
  int64_t m, n, k;
  bool ta, tb;  // A / B given as the transpose of a row-major matrix
};

template <class T>
double time_case(const Shape& s, int threads, double budget) {
  // Row-major storage of op(A), op(B); the transposes are stride swaps.
  std::vector<T> a(size_t(s.m * s.k)), b(size_t(s.k * s.n)), c(size_t(s.m * s.n));
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (auto& x : a) x = T(u(rng));
  for (auto& x : b) x = T(u(rng));
  const int64_t rsa = s.ta ? 1 : s.k, csa = s.ta ? s.m : 1;
  const int64_t rsb = s.tb ? 1 : s.n, csb = s.tb ? s.k : 1;
  pynn::set_num_threads(threads);
  auto once = [&] {
    auto t0 = std::chrono::steady_clock::now();
    Gemm<T>::run(false, s.m, s.n, s.k, T(1), a.data(), rsa, csa, b.data(), rsb, csb, T(0),
                 c.data(), s.n, 1);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double first = once();
  for (int w = 0; w < 3 && first * w < budget / 4; ++w) once();
  int reps = int(std::min(1000.0, std::max(5.0, budget / std::max(first, 1e-7))));
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r) ts.push_back(once());
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

template <class T>
void bench_isa(CpuIsa isa) {
  pynn::set_cpu_isa(isa);
  const Shape shapes[] = {
      {"32^3", 32, 32, 32, false, false},
      {"64^3", 64, 64, 64, false, false},
      {"128^3", 128, 128, 128, false, false},
      {"256^3", 256, 256, 256, false, false},
      {"512^3", 512, 512, 512, false, false},
      {"1024^3", 1024, 1024, 1024, false, false},
      {"2048^3", 2048, 2048, 2048, false, false},
      {"X@W1 128x784x512", 128, 512, 784, false, false},
      {"h@W2 128x512x10", 128, 10, 512, false, false},
      {"h^T@dZ 512x128x10", 512, 10, 128, true, false},
      {"dZ@W2^T 128x10x512", 128, 512, 10, false, true},
      {"X^T@dH 784x128x512", 784, 512, 128, true, false},
  };
  pynn::GemmInfo gi = Gemm<T>::info();
  std::printf("%s %s (MR=%d NR=%d MC=%lld KC=%lld NC=%lld)\n", Gemm<T>::name(), gi.isa, gi.mr,
              gi.nr, (long long)gi.mc, (long long)gi.kc, (long long)gi.nc);
  double mlp[3] = {0, 0, 0};
  for (const Shape& s : shapes) {
    double flop = 2.0 * s.m * s.n * s.k;
    if (isa == CpuIsa::Generic && flop > 3e9) continue;
    std::printf("  %-22s", s.name);
    for (int threads = 1; threads <= 2; ++threads) {
      double t = time_case<T>(s, threads, flop > 1e9 ? 1.5 : 0.3);
      if (s.name[0] == 'X' || s.name[0] == 'h' || s.name[0] == 'd') mlp[threads] += t;
      std::printf("  %2dT %9.1f us %7.1f GFLOP/s", threads, t * 1e6, flop / t * 1e-9);
    }
    std::printf("\n");
  }
  std::printf("  %-22s   1T %9.1f us                    2T %9.1f us\n", "MLP five GEMMs", mlp[1] * 1e6,
              mlp[2] * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "all";
  if (what == "check" || what == "all") check_all();
  if (what == "bench" || what == "all") {
    const CpuIsa best = pynn::cpu_isa_supported();
    for (int i = int(best); i >= 0; --i) {
      if (argc > 2 && std::strcmp(argv[2], pynn::cpu_isa_name(CpuIsa(i))) != 0) continue;
      bench_isa<float>(CpuIsa(i));
      bench_isa<double>(CpuIsa(i));
    }
  }
  return g_failures ? 1 : 0;
}
