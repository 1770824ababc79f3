// gemm_avx2.cpp: AVX2+FMA GEMM kernels (f32 and f64). Compiled for AVX2+FMA by
// `#pragma GCC target` below, used only when cpu_isa() says so. See Note [GEMM
// ISA files] for why all code sits in an anonymous namespace after the pragma,
// and Note [GEMM blocking] (gemm.cpp) for the sizes.
#include <immintrin.h>

#include <cstdint>

#include "kernels/gemm/gemm_internal.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace pynn {
namespace gemm_detail {
namespace {

#include "kernels/gemm/gemm_pack.h"
#include "kernels/gemm/gemm_simd.h"

struct VecF32 {
  using T = float;
  using R = __m256;
  using M = __m256i;
  static constexpr int W = 8;
  static R zero() { return _mm256_setzero_ps(); }
  static R load(const T* p) { return _mm256_load_ps(p); }
  static R loadu(const T* p) { return _mm256_loadu_ps(p); }
  static void storeu(T* p, R x) { _mm256_storeu_ps(p, x); }
  static R set1(T x) { return _mm256_set1_ps(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static M mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static R loadm(const T* p, M m) { return _mm256_maskload_ps(p, m); }
  static void storem(T* p, M m, R x) { _mm256_maskstore_ps(p, m, x); }
};

struct VecF64 {
  using T = double;
  using R = __m256d;
  using M = __m256i;
  static constexpr int W = 4;
  static R zero() { return _mm256_setzero_pd(); }
  static R load(const T* p) { return _mm256_load_pd(p); }
  static R loadu(const T* p) { return _mm256_loadu_pd(p); }
  static void storeu(T* p, R x) { _mm256_storeu_pd(p, x); }
  static R set1(T x) { return _mm256_set1_pd(x); }
  static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  static M mask(int64_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static R loadm(const T* p, M m) { return _mm256_maskload_pd(p, m); }
  static void storem(T* p, M m, R x) { _mm256_maskstore_pd(p, m, x); }
};

// Note [GEMM blocking], AVX2 rows (see gemm.cpp for the derivation).
constexpr int kMrF32 = 6, kNvF32 = 2;  // 6 x 16 floats
constexpr int kMrF64 = 6, kNvF64 = 2;  // 6 x 8 doubles

constexpr GemmKernels<float> kF32 = {
    "avx2", kMrF32, kNvF32 * 8, 6 * 64, 384, 4096, 48 * 48 * 48, 64 * 64 * 64,
    &pack_a<kMrF32, ScalarTranspose, float>, &pack_b<kNvF32 * 8, ScalarTranspose, float>,
    &micro<VecF32, kMrF32, kNvF32>, &micro_edge<VecF32, kMrF32, kNvF32>,
    &small<VecF32, 8, 6, 0>, false, 0};
constexpr GemmKernels<double> kF64 = {
    "avx2", kMrF64, kNvF64 * 4, 6 * 32, 384, 4096, 48 * 48 * 48, 64 * 64 * 64,
    &pack_a<kMrF64, ScalarTranspose, double>, &pack_b<kNvF64 * 4, ScalarTranspose, double>,
    &micro<VecF64, kMrF64, kNvF64>, &micro_edge<VecF64, kMrF64, kNvF64>,
    &small<VecF64, 8, 6, 0>, false, 0};

}  // namespace
}  // namespace gemm_detail
}  // namespace pynn

#pragma GCC pop_options

namespace pynn {
namespace gemm_detail {
const GemmKernels<float>* gemm_kernels_avx2_f32() { return &kF32; }
const GemmKernels<double>* gemm_kernels_avx2_f64() { return &kF64; }
}  // namespace gemm_detail
}  // namespace pynn
