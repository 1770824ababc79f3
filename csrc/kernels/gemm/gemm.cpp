// gemm.cpp: the GEMM driver: dispatch, the five BLIS loops, threads and the
// integer paths. The per-ISA packing routines and micro-kernels live in
// gemm_generic.cpp / gemm_avx2.cpp / gemm_avx512.cpp (Note [GEMM ISA files]).
//
// Note [GEMM blocking]
// C = alpha*A*B + beta*C is computed the BLIS way: five loops around an
// MR x NR register-tile micro-kernel.
//
//   jc: columns of C in blocks of NC      B panel KC x NC packed  -> L3
//    pc: k in blocks of KC (never split across threads)
//     ic: rows of C in blocks of MC      A block MC x KC packed  -> L2
//      jr: NR-column micro-panels of B   one B micro-panel KC x NR -> L1
//       ir: MR-row micro-panels of A     streamed from L2 through the tile
//
// Micro-kernel. The tile is vectorised along n: each step p loads NR/W
// vectors of one packed B row and broadcasts MR values of one packed A
// column, so MR*NR/W accumulators stay in registers. The tile must leave room
// for the B vectors and one broadcast, and should make the loads per FMA
// small (MR + NR/W loads for MR*NR/W FMAs):
//   AVX-512 (32 zmm): f32 14 x 32, f64 14 x 16: 28 accumulators + 2 B vectors
//     + 1 broadcast = 31 registers; 16 loads per 28 FMAs. (12 x 32, 8 x 48
//     and 6 x 64 use 24 accumulators and measured no faster.)
//   AVX2 (16 ymm): f32 6 x 16, f64 6 x 8: 12 accumulators + 2 + 1 = 15.
//   generic (16 xmm, plain C++): f32 4 x 8, f64 4 x 4: 8 SSE accumulators.
// Two FMA pipes with ~4-cycle latency need >= 8 independent accumulators;
// all tiles above have more.
//
// Cache blocks (Zen 5 VM: L1d 48 KiB 12-way, L2 1 MiB 16-way per core, L3
// 32 MiB shared; Zen 4 VM: L1d 32 KiB 8-way, L2 1 MiB 8-way, L3 32 MiB;
// `lscpu`, /sys/devices/system/cpu/cpu0/cache):
//   KC: the B micro-panel KC x NR stays in L1 while the A micro-panels stream
//     past it. AVX-512 f32: 256 x 32 x 4 B = 32 KiB (8 of 12 ways on Zen 5),
//     leaving 4 ways for the A micro-panel (14 x 256 x 4 B = 14 KiB) and C.
//     f64 uses the same bytes (256 x 16 x 8 B). AVX2: 384 x 16 x 4 B = 24 KiB.
//     On Zen 4 the 32 KiB B micro-panel is all of L1d, yet KC = 256 is still
//     the fastest: 2048^3 on 2 threads took 88.9 ms with KC 256 against
//     94.2 (160), 96-98 (192, 128), measured interleaved in one process; one
//     thread 100 vs 95 GFLOP/s (160). The L2 feeds the few missing lines fast
//     enough, and a smaller KC re-reads and re-writes the C tile more often.
//     So KC is not derived from the L1d size: both machines use 256.
//   MC: the packed A block MC x KC stays in L2 while the jr loop sweeps it,
//     about half of L2 so the B panel's lines can pass through:
//     AVX-512 f32 336 x 256 x 4 B = 336 KiB, f64 168 x 256 x 8 B = 336 KiB.
//   NC: the packed B panel KC x NC lives in L3 (4 MiB for f32 at 256 x 4096);
//     its only job is to amortise re-packing A, so it is large.
// k is cut into equal blocks no larger than KC (784 -> 4 x 196, not
// 3 x 256 + 16), and each thread's rows/columns into equal blocks no larger
// than MC / NC, so no loop ends with a sliver.
//
// Edges: packing zero-pads partial panels; a partial tile is computed by an
// edge kernel that does only the rows and vectors needed into a local tile,
// which is then added to C (never read when beta == 0).
//
// Small problems. Packing costs O(mk + kn) memory traffic against O(mnk)
// FMAs, a loss when m*n*k is small or when m or n is thin (n = 10 classes).
// Below small_mnk multiply-adds, or when the problem is thinner than the
// tile, an unpacked single-thread path runs instead: it vectorises over n
// reading B rows in place, so it needs unit-stride B rows (csb == 1) in one of
// the two orientations C = A*B or C^T = B^T*A^T (the transpose is free:
// strides swap). Otherwise the packed path runs, however small, except for
// the thread blocks of Note [GEMM unpacked blocks].
//
// Threads (Note [Threads]): the C matrix is cut into a tm x tn grid of
// blocks (in whole MR / NR micro-panels), one per thread; each thread runs the
// jc/pc/ic loops on its own block, packing its own A and B parts, so there
// are no barriers and pc is never split. The grid minimises the largest
// block's (FMAs + packing); the thread count is limited so each thread has at
// least thread_mnk multiply-adds (a parallel region costs a few us).
//
// The numbers in the tables (gemm_*.cpp) were measured with
// csrc/kernels/gemm/dev/gemm_check.cpp on the AMD EPYC (Zen 5) 2-core VM, and
// checked on an AMD EPYC (Zen 4, Genoa) 2-core VM, which runs AVX-512 as
// 2 x 256 bits: one 512-bit FMA per cycle per core, 232 GFLOP/s f32 on 2
// threads (a loop of independent FMAs).
//
// Note [GEMM unpacked blocks]
// The AVX-512 f32 small-path kernel (6 x 64 tile, B rows read in place, k in
// blocks of kSmallKc = 512) runs at ~97% of the FMA peak on one Zen 4 core
// while its B rows stay in L2, better than the packed path once packing is
// counted (one thread, GFLOP/s, small vs packed): 32x256x784 108 vs 89,
// 128x256x784 113 vs 99, 392x512x128 with A transposed 114 vs 108,
// 1024^3 98 vs 99. So a thread block of the packed path (Note [Threads]) runs
// the small kernel on its rows [m0, m1) and columns [n0, n1) instead, without
// packing, when B has unit-stride rows (csb == 1) and the B rows it sweeps
// per k block, min(k, 512) x cols, fit in the L2 of one core (from sysconf,
// CPUID underneath; 1 MiB if unknown). 2048^3 (per-thread B rows 2 MiB)
// stays packed. The table field unpacked_kc switches this on (AVX-512 f32
// only): on the same core the AVX2 small kernel (6 x 16 tile) loses to packing
// (128x256x784: 86 vs 98 GFLOP/s) and f64 was not measured.
// Zen 4, 2 threads, interleaved in one process (us; packed -> unpacked):
//   X@W 128x512x784 558 -> 504, X^T@D 784x512x128 480 -> 457,
//   32x512x784 148 -> 120, 512^3 1309 -> 1181, 1024^3 10707 -> 10373.
// With the 4 + 4 row tail of small_block (gemm_simd.h) as well, from Python
// (pynn.matmul, medians of 3 runs of 300, the old build in alternate
// processes; us, GFLOP/s): X@W 563 (183) -> 461 (223), X^T@D 489 (210) ->
// 461 (223), 32x512x784 169 (152) -> 136 (189), 2048^3 unchanged (201);
// NumPy/OpenBLAS 568, 544, 188, 88000 us. MC (168 to 672) changed 2048^3 by
// less than 1%.
#include "kernels/gemm/gemm.h"

#include <unistd.h>

#include <cstdlib>
#include <new>

#include "core/cpu.h"
#include "core/parallel.h"
#include "kernels/gemm/gemm_internal.h"

namespace pynn {
namespace {

using gemm_detail::GemmKernels;
using gemm_detail::kMaxMR;
using gemm_detail::kMaxNR;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

const GemmKernels<float>* kernels_f32(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return gemm_detail::gemm_kernels_avx512_f32();
    case CpuIsa::Avx2: return gemm_detail::gemm_kernels_avx2_f32();
    default: return gemm_detail::gemm_kernels_generic_f32();
  }
}

const GemmKernels<double>* kernels_f64(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Avx512: return gemm_detail::gemm_kernels_avx512_f64();
    case CpuIsa::Avx2: return gemm_detail::gemm_kernels_avx2_f64();
    default: return gemm_detail::gemm_kernels_generic_f64();
  }
}

// The L2 size of one core in bytes, from the C library (CPUID underneath);
// 1 MiB when it does not say (Note [GEMM unpacked blocks]).
int64_t l2_cache_bytes() {
  static const int64_t bytes = [] {
    long v = 0;
#ifdef _SC_LEVEL2_CACHE_SIZE
    v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return v > 0 ? int64_t(v) : int64_t(1) << 20;
  }();
  return bytes;
}

// One growing, 4 KiB-aligned packing buffer per thread (the pool threads of
// OpenMP live as long as the process, so it is allocated once).
struct Workspace {
  void* ptr = nullptr;
  int64_t size = 0;
  ~Workspace() { std::free(ptr); }
};

void* thread_workspace(int64_t bytes) {
  thread_local Workspace ws;
  if (ws.size < bytes) {
    std::free(ws.ptr);
    ws.ptr = nullptr;
    ws.size = 0;
    const int64_t size = ceil_div(bytes, 4096) * 4096;
    ws.ptr = std::aligned_alloc(4096, static_cast<size_t>(size));
    if (!ws.ptr) throw std::bad_alloc();
    ws.size = size;
  }
  return ws.ptr;
}

// The operands of one problem; transposed() is the same problem as
// C^T = B^T * A^T, for free.
template <class T>
struct Problem {
  int64_t m, n, k;
  const T* a;
  int64_t rsa, csa;
  const T* b;
  int64_t rsb, csb;
  T* c;
  int64_t rsc, csc;

  Problem transposed() const { return {n, m, k, b, csb, rsb, a, csa, rsa, c, csc, rsc}; }
};

// The caller's epilogue (Note [GEMM epilogue]) seen from a problem that may be
// the caller's transpose: swapped then exchanges rows and columns.
struct Epilogue {
  const GemmEpilogue* e = nullptr;
  bool swapped = false;
  explicit operator bool() const { return e != nullptr; }
  void operator()(int64_t i0, int64_t rows, int64_t j0, int64_t cols) const {
    if (!e) return;
    if (swapped)
      e->fn(e->ctx, j0, cols, i0, rows);
    else
      e->fn(e->ctx, i0, rows, j0, cols);
  }
  Epilogue transposed() const { return {e, !swapped}; }
};
constexpr int64_t kEpilogueRows = 24;  // a multiple of the unpacked kernels' row tiles (6 and 4)
constexpr int64_t kEpilogueK = 512;    // one k block of the unpacked kernel (kSmallKc)

// C = beta * C; beta == 0 writes zeros without reading C.
template <class T>
void scale_c(int64_t m, int64_t n, T beta, T* c, int64_t rsc, int64_t csc) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T* cij = c + i * rsc + j * csc;
      *cij = beta == T(0) ? T(0) : beta * *cij;
    }
}

// The jr and ir loops over one packed A block (mc x kc) and B panel (kc x nc).
template <class T>
void macro_kernel(const GemmKernels<T>& K, int64_t mc, int64_t nc, int64_t kc, T alpha,
                  const T* pa, const T* pb, T beta, T* c, int64_t rsc, int64_t csc) {
  const int64_t MR = K.mr, NR = K.nr;
  alignas(64) T tile[kMaxMR * kMaxNR];
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = min64(NR, nc - jr);
    const T* b = pb + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = min64(MR, mc - ir);
      const T* a = pa + ir * kc;
      T* cij = c + ir * rsc + jr * csc;
      if (mr == MR && nr == NR) {
        K.micro(kc, a, b, cij, rsc, csc, alpha, beta);
        continue;
      }
      K.micro_edge(mr, nr, kc, a, b, tile);
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < nr; ++j) {
          T* cc = cij + i * rsc + j * csc;
          const T x = alpha * tile[i * NR + j];
          *cc = beta == T(0) ? x : x + beta * *cc;
        }
    }
  }
}

// The jc, pc and ic loops for the rows [m0, m1) and columns [n0, n1) of C.
template <class T>
void packed_block(const GemmKernels<T>& K, const Problem<T>& P, T alpha, T beta, int64_t m0,
                  int64_t m1, int64_t n0, int64_t n1, const Epilogue& epi) {
  const int64_t MR = K.mr, NR = K.nr;
  const int64_t rows = m1 - m0, cols = n1 - n0;
  // Equal blocks no larger than the table's (Note [GEMM blocking]).
  const int64_t kc_step = ceil_div(P.k, ceil_div(P.k, K.kc));
  const int64_t mc_step = ceil_div(ceil_div(rows, ceil_div(rows, K.mc)), MR) * MR;
  const int64_t nc_step = ceil_div(ceil_div(cols, ceil_div(cols, K.nc)), NR) * NR;
  const int64_t a_elems = ceil_div(mc_step * kc_step, 16) * 16;  // keeps pb 64-byte aligned
  T* pa = static_cast<T*>(thread_workspace((a_elems + nc_step * kc_step) * int64_t(sizeof(T))));
  T* pb = pa + a_elems;
  for (int64_t jc = n0; jc < n1; jc += nc_step) {
    const int64_t nc = min64(nc_step, n1 - jc);
    for (int64_t pc = 0; pc < P.k; pc += kc_step) {
      const int64_t kc = min64(kc_step, P.k - pc);
      K.pack_b(kc, nc, P.b + pc * P.rsb + jc * P.csb, P.rsb, P.csb, pb);
      const T beta_pc = pc == 0 ? beta : T(1);
      for (int64_t ic = m0; ic < m1; ic += mc_step) {
        const int64_t mc = min64(mc_step, m1 - ic);
        K.pack_a(mc, kc, P.a + ic * P.rsa + pc * P.csa, P.rsa, P.csa, pa);
        macro_kernel(K, mc, nc, kc, alpha, pa, pb, beta_pc, P.c + ic * P.rsc + jc * P.csc, P.rsc,
                     P.csc);
        if (pc + kc >= P.k) epi(ic, mc, jc, nc);
      }
    }
  }
}

// Threads for `work` multiply-adds: each needs at least thread_mnk of them
// (Note [GEMM blocking]); 1 inside a parallel region.
template <class T>
int64_t threads_for(const GemmKernels<T>& K, double work) {
  const double by_work = work / double(K.thread_mnk);
  int64_t nt = in_parallel_region() ? 1 : get_num_threads();
  if (by_work < double(nt)) nt = by_work < 1.0 ? 1 : static_cast<int64_t>(by_work);
  return nt;
}

// The unpacked kernel on rows [m0, m1) and columns [n0, n1) of P. With an
// epilogue and a single k block the rows go in parts of kEpilogueRows, each
// handed to the epilogue while it is still in cache (a row of C is the same
// however the rows are grouped: its k loop runs alike).
template <class T>
void small_part(const GemmKernels<T>& K, const Problem<T>& P, T alpha, T beta, int64_t m0, int64_t m1,
                int64_t n0, int64_t n1, const Epilogue& epi) {
  const int64_t step = epi && P.k <= kEpilogueK ? kEpilogueRows : m1 - m0;
  for (int64_t i = m0; i < m1; i += step) {
    const int64_t rows = min64(step, m1 - i);
    K.small(rows, n1 - n0, P.k, alpha, P.a + i * P.rsa, P.rsa, P.csa, P.b + n0 * P.csb, P.rsb, P.csb, beta,
            P.c + i * P.rsc + n0 * P.csc, P.rsc, P.csc);
    epi(i, rows, n0, n1 - n0);
  }
}

// Splits `panels` micro-panels as evenly as possible over `parts`; returns
// the first panel of part i.
inline int64_t split_start(int64_t panels, int64_t parts, int64_t i) {
  return panels / parts * i + min64(i, panels % parts);
}

template <class T>
void packed(const GemmKernels<T>& K, const Problem<T>& P, T alpha, T beta, const Epilogue& epi) {
  const int64_t MR = K.mr, NR = K.nr;
  const int64_t pm = ceil_div(P.m, MR), pn = ceil_div(P.n, NR);
  // Threads by work (Note [GEMM blocking]).
  int64_t nt = threads_for(K, double(P.m) * double(P.n) * double(P.k));
  // The tm x tn grid with the cheapest largest block (FMAs + packing, in
  // element units; a packed element costs about as much as 16 FMAs).
  int64_t tm = 1, tn = 1;
  for (; nt > 1; --nt) {
    double best = -1.0;
    for (int64_t gm = 1; gm <= nt; ++gm) {
      if (nt % gm) continue;
      const int64_t gn = nt / gm;
      if (gm > pm || gn > pn) continue;
      const double r = double(min64(ceil_div(pm, gm) * MR, P.m));
      const double c = double(min64(ceil_div(pn, gn) * NR, P.n));
      const double cost = r * c + 16.0 * (r + c);
      if (best < 0 || cost < best) best = cost, tm = gm, tn = gn;
    }
    if (best >= 0) break;
  }
  const int64_t nblocks = tm * tn;
  // Unpacked blocks (Note [GEMM unpacked blocks]): B's rows are read in place
  // when the part one block uses fits in this core's L2.
  const int64_t block_cols = min64(ceil_div(pn, tn) * NR, P.n);
  const bool unpacked = K.unpacked_kc > 0 && P.csb == 1 &&
                        min64(P.k, K.unpacked_kc) * block_cols * int64_t(sizeof(T)) <= l2_cache_bytes();
  auto run = [&](int64_t t) {
    const int64_t im = t / tn, jn = t % tn;
    const int64_t m0 = split_start(pm, tm, im) * MR, m1 = min64(split_start(pm, tm, im + 1) * MR, P.m);
    const int64_t n0 = split_start(pn, tn, jn) * NR, n1 = min64(split_start(pn, tn, jn + 1) * NR, P.n);
    if (m0 >= m1 || n0 >= n1) return;
    if (unpacked)
      small_part(K, P, alpha, beta, m0, m1, n0, n1, epi);
    else
      packed_block(K, P, alpha, beta, m0, m1, n0, n1, epi);
  };
  parallel_for(nblocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) run(t);
  });
}

template <class T>
void gemm_float(const GemmKernels<T>& K, int64_t m, int64_t n, int64_t k, T alpha, const T* A,
                int64_t rsa, int64_t csa, const T* B, int64_t rsb, int64_t csb, T beta, T* C,
                int64_t rsc, int64_t csc, const GemmEpilogue* epilogue) {
  if (m <= 0 || n <= 0) return;
  Epilogue epi{epilogue, false};
  if (k <= 0 || alpha == T(0)) {
    scale_c(m, n, beta, C, rsc, csc);
    epi(0, m, 0, n);
    return;
  }
  // Strides along a dimension of size 1 never matter; making them 1 lets the
  // unit-stride cases below see row and column vectors.
  if (n == 1) csb = csc = 1;
  if (m == 1) rsa = rsc = 1;
  if (k == 1) csa = rsb = 1;
  Problem<T> P{m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc};
  // The kernels vectorise along n: prefer the orientation where C's rows are
  // unit-stride.
  if (P.csc != 1 && P.rsc == 1) {
    P = P.transposed();
    epi = epi.transposed();
  }

  const double work = double(m) * double(n) * double(k);
  const bool thin = P.m < K.mr || P.n < K.nr;
  if (work < double(K.small_mnk) || thin) {
    auto fits = [&](const Problem<T>& Q) { return K.small_any_stride || Q.csb == 1 || Q.n == 1; };
    const bool flip = !fits(P);
    const Problem<T> Q = flip ? P.transposed() : P;
    const Epilogue eq = flip ? epi.transposed() : epi;
    if (fits(Q)) {
      // A thin problem with work for several threads (a 10-class layer of a
      // 128-row batch: 655K multiply-adds) splits its rows over them; each
      // row of C comes out exactly as it would serially.
      const int64_t nt = threads_for(K, work);
      parallel_for(Q.m, ceil_div(Q.m, nt),
                   [&](int64_t r0, int64_t r1) { small_part(K, Q, alpha, beta, r0, r1, 0, Q.n, eq); });
      return;
    }
  }
  packed(K, P, alpha, beta, epi);
}

template <class T>
GemmInfo info_of(const GemmKernels<T>& K) {
  return {K.isa, K.mr, K.nr, K.mc, K.kc, K.nc};
}

// ---------------------------------------------------------------- integers
//
// A plain i-p-j loop: each row of C is accumulated in a local buffer (in the
// unsigned type of the same width, so overflow wraps as in NumPy), rows are
// split over threads.

template <class T, class Acc, bool kBool>
void gemm_int_rows(int64_t i0, int64_t i1, int64_t n, int64_t k, const T* A, int64_t rsa,
                   int64_t csa, const T* B, int64_t rsb, int64_t csb, T* C, int64_t rsc,
                   int64_t csc) {
  constexpr int64_t kN = 256;
  Acc acc[kN];
  for (int64_t i = i0; i < i1; ++i) {
    for (int64_t j0 = 0; j0 < n; j0 += kN) {
      const int64_t nb = min64(kN, n - j0);
      for (int64_t j = 0; j < nb; ++j) acc[j] = Acc(0);
      for (int64_t p = 0; p < k; ++p) {
        const Acc aip = static_cast<Acc>(A[i * rsa + p * csa]);
        if (aip == Acc(0)) continue;
        const T* bp = B + p * rsb + j0 * csb;
        if constexpr (kBool) {
          for (int64_t j = 0; j < nb; ++j) acc[j] = static_cast<Acc>(acc[j] | bp[j * csb]);
        } else if (csb == 1) {
          for (int64_t j = 0; j < nb; ++j) acc[j] += aip * static_cast<Acc>(bp[j]);
        } else {
          for (int64_t j = 0; j < nb; ++j) acc[j] += aip * static_cast<Acc>(bp[j * csb]);
        }
      }
      T* ci = C + i * rsc + j0 * csc;
      for (int64_t j = 0; j < nb; ++j) ci[j * csc] = static_cast<T>(acc[j]);
    }
  }
}

template <class T, class Acc, bool kBool = false>
void gemm_int(int64_t m, int64_t n, int64_t k, const T* A, int64_t rsa, int64_t csa, const T* B,
              int64_t rsb, int64_t csb, T* C, int64_t rsc, int64_t csc) {
  if (m <= 0 || n <= 0) return;
  const int64_t per_row = max64(1, n * max64(k, 1));
  parallel_for(m, max64(1, kGrainSize / per_row), [&](int64_t i0, int64_t i1) {
    gemm_int_rows<T, Acc, kBool>(i0, i1, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
  });
}

}  // namespace

void gemm_f32(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t rsa, int64_t csa,
              const float* B, int64_t rsb, int64_t csb, float beta, float* C, int64_t rsc, int64_t csc,
              const GemmEpilogue* epilogue) {
  gemm_float(*kernels_f32(cpu_isa()), m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc, epilogue);
}

void gemm_f64(int64_t m, int64_t n, int64_t k, double alpha, const double* A, int64_t rsa,
              int64_t csa, const double* B, int64_t rsb, int64_t csb, double beta, double* C,
              int64_t rsc, int64_t csc, const GemmEpilogue* epilogue) {
  gemm_float(*kernels_f64(cpu_isa()), m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc, csc, epilogue);
}

void gemm_f32_reference(int64_t m, int64_t n, int64_t k, float alpha, const float* A, int64_t rsa,
                        int64_t csa, const float* B, int64_t rsb, int64_t csb, float beta, float* C,
                        int64_t rsc, int64_t csc) {
  gemm_float(*kernels_f32(CpuIsa::Generic), m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc,
             csc, nullptr);
}

void gemm_f64_reference(int64_t m, int64_t n, int64_t k, double alpha, const double* A,
                        int64_t rsa, int64_t csa, const double* B, int64_t rsb, int64_t csb,
                        double beta, double* C, int64_t rsc, int64_t csc) {
  gemm_float(*kernels_f64(CpuIsa::Generic), m, n, k, alpha, A, rsa, csa, B, rsb, csb, beta, C, rsc,
             csc, nullptr);
}

GemmInfo gemm_info_f32() { return info_of(*kernels_f32(cpu_isa())); }
GemmInfo gemm_info_f64() { return info_of(*kernels_f64(cpu_isa())); }

void gemm_i32(int64_t m, int64_t n, int64_t k, const int32_t* A, int64_t rsa, int64_t csa,
              const int32_t* B, int64_t rsb, int64_t csb, int32_t* C, int64_t rsc, int64_t csc) {
  gemm_int<int32_t, uint32_t>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}

void gemm_i64(int64_t m, int64_t n, int64_t k, const int64_t* A, int64_t rsa, int64_t csa,
              const int64_t* B, int64_t rsb, int64_t csb, int64_t* C, int64_t rsc, int64_t csc) {
  gemm_int<int64_t, uint64_t>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}

void gemm_u8(int64_t m, int64_t n, int64_t k, const uint8_t* A, int64_t rsa, int64_t csa,
             const uint8_t* B, int64_t rsb, int64_t csb, uint8_t* C, int64_t rsc, int64_t csc) {
  gemm_int<uint8_t, uint32_t>(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}

void gemm_bool(int64_t m, int64_t n, int64_t k, const bool* A, int64_t rsa, int64_t csa,
               const bool* B, int64_t rsb, int64_t csb, bool* C, int64_t rsc, int64_t csc) {
  // bool is one byte holding 0 or 1; read and write it as bytes (unsigned
  // char may access any object), OR-ing products instead of adding them.
  gemm_int<uint8_t, uint8_t, true>(m, n, k, reinterpret_cast<const uint8_t*>(A), rsa, csa,
                                   reinterpret_cast<const uint8_t*>(B), rsb, csb,
                                   reinterpret_cast<uint8_t*>(C), rsc, csc);
}

}  // namespace pynn
