// gemm_avx512.cpp: AVX-512 GEMM kernels (f32 and f64). Compiled for the
// AVX-512 ISA by `#pragma GCC target` below, used only when cpu_isa() says
// so. See Note [GEMM ISA files] for why all code sits in an anonymous
// namespace after the pragma, and Note [GEMM blocking] (gemm.cpp) for sizes.
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm/gemm_internal.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma,prefer-vector-width=512")

namespace pynn {
namespace gemm_detail {
namespace {

#include "kernels/gemm/gemm_pack.h"
#include "kernels/gemm/gemm_simd.h"

struct VecF32 {
  using T = float;
  using R = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_load_ps(p); }
  static R loadu(const T* p) { return _mm512_loadu_ps(p); }
  static void storeu(T* p, R x) { _mm512_storeu_ps(p, x); }
  static R set1(T x) { return _mm512_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static M mask(int64_t n) { return static_cast<M>((1u << n) - 1u); }
  static R loadm(const T* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  static void storem(T* p, M m, R x) { _mm512_mask_storeu_ps(p, m, x); }
};

struct VecF64 {
  using T = double;
  using R = __m512d;
  using M = __mmask8;
  static constexpr int W = 8;
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_load_pd(p); }
  static R loadu(const T* p) { return _mm512_loadu_pd(p); }
  static void storeu(T* p, R x) { _mm512_storeu_pd(p, x); }
  static R set1(T x) { return _mm512_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static M mask(int64_t n) { return static_cast<M>((1u << n) - 1u); }
  static R loadm(const T* p, M m) { return _mm512_maskz_loadu_pd(m, p); }
  static void storem(T* p, M m, R x) { _mm512_mask_storeu_pd(p, m, x); }
};

// Note [GEMM blocking], AVX-512 rows (see gemm.cpp for the derivation).
constexpr int kMrF32 = 14, kNvF32 = 2;  // 14 x 32 floats
constexpr int kMrF64 = 14, kNvF64 = 2;  // 14 x 16 doubles

constexpr GemmKernels<float> kF32 = {
    "avx512", kMrF32, kNvF32 * 16, 14 * 24, 256, 4096, 48 * 48 * 48, 64 * 64 * 64,
    &pack_a<kMrF32, ScalarTranspose, float>, &pack_b<kNvF32 * 16, ScalarTranspose, float>,
    &micro<VecF32, kMrF32, kNvF32>, &micro_edge<VecF32, kMrF32, kNvF32>,
    &small<VecF32, 8, 8, 6>, false, kSmallKc};
constexpr GemmKernels<double> kF64 = {
    "avx512", kMrF64, kNvF64 * 8, 14 * 12, 256, 4096, 48 * 48 * 48, 64 * 64 * 64,
    &pack_a<kMrF64, ScalarTranspose, double>, &pack_b<kNvF64 * 8, ScalarTranspose, double>,
    &micro<VecF64, kMrF64, kNvF64>, &micro_edge<VecF64, kMrF64, kNvF64>,
    &small<VecF64, 8, 8, 6>, false, 0};

}  // namespace
}  // namespace gemm_detail
}  // namespace pynn

#pragma GCC pop_options

namespace pynn {
namespace gemm_detail {
const GemmKernels<float>* gemm_kernels_avx512_f32() { return &kF32; }
const GemmKernels<double>* gemm_kernels_avx512_f64() { return &kF64; }
}  // namespace gemm_detail
}  // namespace pynn
