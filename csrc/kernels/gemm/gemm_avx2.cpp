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

// Note [AVX2 packing transpose]
// Packing a row-major A (s_p == 1, Note [GEMM blocking]: the common X @ W and
// a convolution's patches) is a transpose of MR = 6 rows into columns of 6.
// Per 8 columns: the 6 rows (and 2 zero rows) are loaded as 8 vectors and
// transposed in registers (unpack, shuffle, permute: the classic 8 x 8), then
// column q's 8 lanes are stored at dst + q*6. Stores run in increasing q, so
// the 2 spare lanes each store writes are overwritten by the next one; the
// last column of a group stores 4 + 2 lanes so nothing past the group is
// touched. Packing B^T (NR = 16: dx = dz W^T) is two such transposes per 8
// columns. Other R and the tail of fewer than 8 columns use ScalarTranspose.
// The same values move: the packed bits are those of the scalar loop.
struct Avx2Transpose {
  // The 8 x 8 transpose of rows r[0..7] into columns c[0..7].
  static void transpose8(const __m256* r, __m256* c) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    c[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    c[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    c[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    c[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    c[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    c[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    c[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    c[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
  }

  template <int R, class T>
  static void transpose(int64_t kc, const T* src, int64_t ld, T* dst) {
    if constexpr (R == 16 && sizeof(T) == 4) {  // B^T panels: two 8 x 8 transposes per 8 columns
      int64_t p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8) {
        const float* s = reinterpret_cast<const float*>(src) + p0;
        float* d = reinterpret_cast<float*>(dst) + p0 * 16;
        for (int half = 0; half < 2; ++half) {
          __m256 r[8], c[8];
          for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + (half * 8 + i) * ld);
          transpose8(r, c);
          for (int q = 0; q < 8; ++q) _mm256_storeu_ps(d + q * 16 + half * 8, c[q]);
        }
      }
      if (p0 < kc) ScalarTranspose::transpose<R>(kc - p0, src + p0, ld, dst + p0 * R);
    } else if constexpr (R == 6 && sizeof(T) == 4) {
      int64_t p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8) {
        const float* s = reinterpret_cast<const float*>(src) + p0;
        __m256 r[8], c[8];
        for (int i = 0; i < 6; ++i) r[i] = _mm256_loadu_ps(s + i * ld);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8(r, c);
        float* d = reinterpret_cast<float*>(dst) + p0 * 6;
        for (int q = 0; q < 7; ++q) _mm256_storeu_ps(d + q * 6, c[q]);
        _mm_storeu_ps(d + 42, _mm256_castps256_ps128(c[7]));
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 46), _mm256_extractf128_ps(c[7], 1));
      }
      if (p0 < kc) ScalarTranspose::transpose<R>(kc - p0, src + p0, ld, dst + p0 * R);
    } else {
      ScalarTranspose::transpose<R>(kc, src, ld, dst);
    }
  }
};

// Note [GEMM blocking], AVX2 rows (see gemm.cpp for the derivation).
constexpr int kMrF32 = 6, kNvF32 = 2;  // 6 x 16 floats
constexpr int kMrF64 = 6, kNvF64 = 2;  // 6 x 8 doubles

constexpr GemmKernels<float> kF32 = {
    "avx2", kMrF32, kNvF32 * 8, 6 * 64, 384, 4096, 48 * 48 * 48, 64 * 64 * 64,
    &pack_a<kMrF32, Avx2Transpose, float>, &pack_b<kNvF32 * 8, Avx2Transpose, float>,
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
