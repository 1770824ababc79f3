// gemm_generic.cpp: the portable reference GEMM kernels (plain C++, baseline
// x86-64). They are the fallback on CPUs without AVX2 and the oracle the SIMD
// kernels are tested against (gemm_f32_reference / gemm_f64_reference), so
// they are written to be obviously right rather than fast; GCC still
// vectorises them with SSE2.
#include <cstdint>

#include "kernels/gemm/gemm_internal.h"

namespace pynn {
namespace gemm_detail {
namespace {

#include "kernels/gemm/gemm_pack.h"

// acc = sum over p of (packed A column p) x (packed B row p).
template <int MR, int NR, class T>
void micro_acc(int64_t k, const T* a, const T* b, T (&acc)[MR][NR]) {
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = T(0);
  for (int64_t p = 0; p < k; ++p, a += MR, b += NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
}

template <int MR, int NR, class T>
void micro(int64_t k, const T* a, const T* b, T* c, int64_t rsc, int64_t csc, T alpha, T beta) {
  T acc[MR][NR];
  micro_acc<MR, NR>(k, a, b, acc);
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      T* cij = c + i * rsc + j * csc;
      *cij = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *cij;
    }
}

template <int MR, int NR, class T>
void micro_edge(int64_t, int64_t, int64_t k, const T* a, const T* b, T* tile) {
  T acc[MR][NR];
  micro_acc<MR, NR>(k, a, b, acc);  // the padding is zero, so the full tile is right
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) tile[i * NR + j] = acc[i][j];
}

// Unpacked path: C row by row, kN columns at a time, accumulating over p in
// the same order as the packed path. Any strides.
template <class T>
void small(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t rsa, int64_t csa,
           const T* b, int64_t rsb, int64_t csb, T beta, T* c, int64_t rsc, int64_t csc) {
  constexpr int64_t kN = 64;
  T acc[kN];
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j0 = 0; j0 < n; j0 += kN) {
      const int64_t nb = n - j0 < kN ? n - j0 : kN;
      for (int64_t j = 0; j < nb; ++j) acc[j] = T(0);
      for (int64_t p = 0; p < k; ++p) {
        const T aip = a[i * rsa + p * csa];
        const T* bp = b + p * rsb + j0 * csb;
        if (csb == 1) {
          for (int64_t j = 0; j < nb; ++j) acc[j] += aip * bp[j];
        } else {
          for (int64_t j = 0; j < nb; ++j) acc[j] += aip * bp[j * csb];
        }
      }
      T* ci = c + i * rsc + j0 * csc;
      for (int64_t j = 0; j < nb; ++j) {
        T* cij = ci + j * csc;
        *cij = beta == T(0) ? alpha * acc[j] : alpha * acc[j] + beta * *cij;
      }
    }
  }
}

// Note [GEMM blocking], generic rows: 4 x 8 floats / 4 x 4 doubles is 8 SSE
// accumulators out of 16 xmm registers.
constexpr GemmKernels<float> kF32 = {
    "generic", 4, 8, 128, 256, 2048, 16 * 16 * 16, 64 * 64 * 64,
    &pack_a<4, ScalarTranspose, float>, &pack_b<8, ScalarTranspose, float>,
    &micro<4, 8, float>, &micro_edge<4, 8, float>, &small<float>, true, 0};
constexpr GemmKernels<double> kF64 = {
    "generic", 4, 4, 128, 256, 2048, 16 * 16 * 16, 64 * 64 * 64,
    &pack_a<4, ScalarTranspose, double>, &pack_b<4, ScalarTranspose, double>,
    &micro<4, 4, double>, &micro_edge<4, 4, double>, &small<double>, true, 0};

}  // namespace

const GemmKernels<float>* gemm_kernels_generic_f32() { return &kF32; }
const GemmKernels<double>* gemm_kernels_generic_f64() { return &kF64; }

}  // namespace gemm_detail
}  // namespace pynn
