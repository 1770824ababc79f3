// gemm_internal.h: the contract between the GEMM driver (gemm.cpp) and the
// per-ISA kernel files (gemm_generic.cpp, gemm_avx2.cpp, gemm_avx512.cpp).
//
// Note [GEMM ISA files]
// Each ISA file fills one GemmKernels table per dtype: the block sizes and
// cutoffs (the ONE table of Note [GEMM blocking]) and pointers to its packing
// routines, micro-kernels and small-problem kernel. The driver (five loops,
// threads, workspace) is plain baseline code in gemm.cpp and calls through the
// table of the ISA in use.
//
// The AVX2 / AVX-512 files switch the target ISA on with `#pragma GCC target`
// AFTER all their #includes, and put everything that follows inside an
// anonymous namespace. So every function compiled for a wider ISA has internal
// linkage, and no inline or template function with external linkage (from the
// standard library or from pynn headers) is ever compiled with AVX flags: the
// linker can never hand such a copy to generic callers (SIGILL on old CPUs).
// The only external symbols of those files are the table getters below, which
// are defined after `#pragma GCC pop_options` and so are baseline code.
// `nm -C gemm_avx512.o` must show no weak (W/V/u) symbols; gemm_check tests it
// in spirit by running every ISA, the build by -Wall.
//
// This header declares only data and non-inline functions, so it is safe to
// include anywhere.
#pragma once

#include <cstdint>

namespace pynn {
namespace gemm_detail {

// Upper bounds of the register tile over all ISAs (for local edge tiles).
constexpr int kMaxMR = 16;
constexpr int kMaxNR = 64;

template <class T>
struct GemmKernels {
  const char* isa;
  // Register tile and cache blocks (Note [GEMM blocking]).
  int mr, nr;
  int64_t mc, kc, nc;
  // Cutoffs in multiply-adds m*n*k (measured; see Note [GEMM blocking]):
  // below small_mnk the unpacked single-thread path is used when it applies;
  // each extra thread needs at least thread_mnk of work.
  int64_t small_mnk, thread_mnk;

  // Packs the mc x kc block A(i, p) = a[i*rsa + p*csa] into ceil(mc/mr)
  // micro-panels of mr rows: panel q holds A(q*mr + r, p) at [p*mr + r], rows
  // past mc are zero.
  void (*pack_a)(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, T* dst);
  // Packs the kc x nc panel B(p, j) = b[p*rsb + j*csb] into ceil(nc/nr)
  // micro-panels of nr columns: panel q holds B(p, q*nr + j) at [p*nr + j],
  // columns past nc are zero.
  void (*pack_b)(int64_t kc, int64_t nc, const T* b, int64_t rsb, int64_t csb, T* dst);
  // Full register tile: C = alpha * a * b + beta * C over k, with a and b one
  // packed micro-panel each; beta == 0 never reads C. Any rsc, csc.
  void (*micro)(int64_t k, const T* a, const T* b, T* c, int64_t rsc, int64_t csc, T alpha,
                T beta);
  // Edge tile: tile[i*nr + j] = sum_p a * b for i < mr_used, j < nr_used
  // (entries of tile beyond those may be written too, never read by the driver).
  void (*micro_edge)(int64_t mr_used, int64_t nr_used, int64_t k, const T* a, const T* b,
                     T* tile);
  // Unpacked path for small or thin problems, no threads. Supports any
  // strides when small_any_stride, else needs csb == 1 or n == 1.
  void (*small)(int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t rsa, int64_t csa,
                const T* b, int64_t rsb, int64_t csb, T beta, T* c, int64_t rsc, int64_t csc);
  bool small_any_stride;
  // > 0: the k block of `small` (kSmallKc), and `small` also runs the thread
  // blocks of large problems whose B rows min(k, unpacked_kc) x cols fit in
  // L2 (Note [GEMM unpacked blocks]). 0: thread blocks are always packed.
  int64_t unpacked_kc;
};

const GemmKernels<float>* gemm_kernels_generic_f32();
const GemmKernels<double>* gemm_kernels_generic_f64();
const GemmKernels<float>* gemm_kernels_avx2_f32();
const GemmKernels<double>* gemm_kernels_avx2_f64();
const GemmKernels<float>* gemm_kernels_avx512_f32();
const GemmKernels<double>* gemm_kernels_avx512_f64();

}  // namespace gemm_detail
}  // namespace pynn
