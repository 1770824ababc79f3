// gemm.h: matrix multiply kernels (BLIS-style; Note [GEMM blocking] in gemm.cpp).
//
// All functions compute C = A * B (floating point: C = alpha * A * B + beta * C)
// where A is m x k, B is k x n and C is m x n.
//
// Strides are in ELEMENTS and may have any sign and value (rs = row stride,
// cs = column stride): element A(i, p) is A[i * rsa + p * csa]. A transposed
// operand is just swapped strides; a broadcast one has stride 0.
//
// Floating point:
//   beta == 0:  C is never read (it may hold NaN or garbage).
//   alpha == 0 or k == 0: C = beta * C (C = 0 when beta == 0); A and B are not
//               read (as in the reference BLAS).
//   m == 0 or n == 0: nothing happens.
// Integer / bool: C = A * B with NumPy semantics (integers wrap around; bool:
// C(i, j) = OR over p of (A(i, p) AND B(p, j))); C is never read.
//
// Pointers may be null when the corresponding size is 0. C must not overlap A
// or B (callers guarantee it). The kernels do no argument checks
// (Note [Errors at the boundary]).
#pragma once

#include <cstdint>

namespace pynn {

// Note [GEMM epilogue]
// An optional callback on finished parts of C while they are still in cache:
// once C's rows [i0, i0 + rows) x columns [j0, j0 + cols) (the caller's
// coordinates) hold their final values, fn(ctx, i0, rows, j0, cols) runs for
// that block, on the thread that computed it; the blocks of one call cover C
// exactly once and never overlap. Dense layers add the bias and apply the
// activation this way (Note [Dense layer]); the dense backward copies the
// rows of dW it computed over the kept input columns to their places (Note
// [Zero input columns]). fn runs inside the GEMM's threads: it must not
// start parallel work of its own. Where the last k block of a part is done by
// the unpacked kernel in one pass (k <= kEpilogueK), parts are kEpilogueRows
// rows high, so they are still in L1/L2; otherwise a part is a thread's block.
struct GemmEpilogue {
  void (*fn)(void* ctx, int64_t i0, int64_t rows, int64_t j0, int64_t cols);
  void* ctx;
};

void gemm_f32(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t rsa, int64_t csa,
              const float* B, int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc,
              const GemmEpilogue* epilogue = nullptr);
void gemm_f64(int64_t m, int64_t n, int64_t k, double alpha, const double* A, int64_t rsa, int64_t csa,
              const double* B, int64_t rsb, int64_t csb, double beta, double* C, int64_t rsc,
              int64_t csc, const GemmEpilogue* epilogue = nullptr);

void gemm_i32(int64_t m, int64_t n, int64_t k, const int32_t* A, int64_t rsa, int64_t csa,
              const int32_t* B, int64_t rsb, int64_t csb, int32_t* C, int64_t rsc, int64_t csc);
void gemm_i64(int64_t m, int64_t n, int64_t k, const int64_t* A, int64_t rsa, int64_t csa,
              const int64_t* B, int64_t rsb, int64_t csb, int64_t* C, int64_t rsc, int64_t csc);
void gemm_u8(int64_t m, int64_t n, int64_t k, const uint8_t* A, int64_t rsa, int64_t csa,
             const uint8_t* B, int64_t rsb, int64_t csb, uint8_t* C, int64_t rsc, int64_t csc);
void gemm_bool(int64_t m, int64_t n, int64_t k, const bool* A, int64_t rsa, int64_t csa,
               const bool* B, int64_t rsb, int64_t csb, bool* C, int64_t rsc, int64_t csc);

// Introspection for tests and benchmarks: the micro-kernel and block sizes of
// the ISA in use now (pynn::cpu_isa()).
struct GemmInfo {
  const char* isa;
  int mr, nr;
  int64_t mc, kc, nc;
};
GemmInfo gemm_info_f32();
GemmInfo gemm_info_f64();

// The same computation forced onto the plain C++ reference kernels (packing,
// micro-kernel and small-problem path), whatever cpu_isa() says. It is the
// portable fallback and the oracle the SIMD kernels are tested against.
void gemm_f32_reference(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t rsa,
                        int64_t csa, const float* B, int64_t rsb, int64_t csb, float beta, float* C,
                        int64_t rsc, int64_t csc);
void gemm_f64_reference(int64_t m, int64_t n, int64_t k, double alpha, const double* A,
                        int64_t rsa, int64_t csa, const double* B, int64_t rsb, int64_t csb,
                        double beta, double* C, int64_t rsc, int64_t csc);

}  // namespace pynn
