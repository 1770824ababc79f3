// gemm_simd.h: micro-kernels and the small-problem kernel, written once over a
// vector-traits class V and instantiated by gemm_avx2.cpp and gemm_avx512.cpp.
//
// Include ONLY inside the anonymous namespace of those files, after their
// #includes and `#pragma GCC target` (Note [GEMM ISA files]). Includes nothing.
//
// V provides: T (float/double), R (vector register), M (lane mask), W (lanes),
// zero, load (64-byte aligned), loadu, storeu, set1, fma(a, b, c) = a*b + c,
// mul, mask(n) (first n lanes, 0 <= n <= W), loadm / storem (masked; masked-off
// lanes are neither read nor written, so they may lie outside the array).

#define PYNN_UNROLL _Pragma("GCC unroll 16")

// ---------------------------------------------------------------- micro-kernel
//
// The register tile is MR x NR with NR = NV*W: row i of the tile is NV vectors
// of C(i, j..j+NR). One step p loads NV vectors of the packed B row and
// broadcasts the MR values of the packed A column, MR*NV FMAs. The first ME
// rows and NE vectors are computed (ME < MR or NE < NV only for edge tiles;
// the packed layout keeps the full MR / NR strides).

template <class V, int MR, int NV, int ME, int NE>
inline void micro_core(int64_t k, const typename V::T* a, const typename V::T* b,
                       typename V::R (&acc)[ME][NE]) {
  using R = typename V::R;
  constexpr int W = V::W;
  PYNN_UNROLL for (int i = 0; i < ME; ++i) {
    PYNN_UNROLL for (int v = 0; v < NE; ++v) acc[i][v] = V::zero();
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < k; ++p) {
    R bv[NE];
    PYNN_UNROLL for (int v = 0; v < NE; ++v) bv[v] = V::load(b + v * W);
    PYNN_UNROLL for (int i = 0; i < ME; ++i) {
      const R ai = V::set1(a[i]);
      PYNN_UNROLL for (int v = 0; v < NE; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += NV * W;
  }
}

// Full tile straight into C: C = alpha * acc + beta * C (beta == 0: C not read).
template <class V, int MR, int NV>
void micro(int64_t k, const typename V::T* a, const typename V::T* b, typename V::T* c,
           int64_t rsc, int64_t csc, typename V::T alpha, typename V::T beta) {
  using T = typename V::T;
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int NR = NV * W;
  if (csc == 1) {  // the C rows are about to be written: fetch them meanwhile
    PYNN_UNROLL for (int i = 0; i < MR; ++i) {
      __builtin_prefetch(c + i * rsc, 1);
      __builtin_prefetch(c + i * rsc + NR - 1, 1);
    }
  }
  R acc[MR][NV];
  micro_core<V, MR, NV, MR, NV>(k, a, b, acc);
  const R va = V::set1(alpha);
  if (csc == 1) {
    if (beta == T(0)) {
      PYNN_UNROLL for (int i = 0; i < MR; ++i) {
        PYNN_UNROLL for (int v = 0; v < NV; ++v) V::storeu(c + i * rsc + v * W, V::mul(va, acc[i][v]));
      }
    } else {
      const R vb = V::set1(beta);
      PYNN_UNROLL for (int i = 0; i < MR; ++i) {
        PYNN_UNROLL for (int v = 0; v < NV; ++v) {
          T* cv = c + i * rsc + v * W;
          V::storeu(cv, V::fma(vb, V::loadu(cv), V::mul(va, acc[i][v])));
        }
      }
    }
    return;
  }
  alignas(64) T tile[MR * NR];
  PYNN_UNROLL for (int i = 0; i < MR; ++i) {
    PYNN_UNROLL for (int v = 0; v < NV; ++v) V::storeu(tile + i * NR + v * W, acc[i][v]);
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      T* cij = c + i * rsc + j * csc;
      *cij = beta == T(0) ? alpha * tile[i * NR + j] : alpha * tile[i * NR + j] + beta * *cij;
    }
}

// Edge tile into the local tile (row stride NR), computing only ME rows and
// NE vectors. micro_edge below picks ME, NE at run time.
template <class V, int MR, int NV, int ME, int NE>
void micro_edge_fixed(int64_t k, const typename V::T* a, const typename V::T* b,
                      typename V::T* tile) {
  constexpr int W = V::W;
  typename V::R acc[ME][NE];
  micro_core<V, MR, NV, ME, NE>(k, a, b, acc);
  PYNN_UNROLL for (int i = 0; i < ME; ++i) {
    PYNN_UNROLL for (int v = 0; v < NE; ++v) V::storeu(tile + i * NV * W + v * W, acc[i][v]);
  }
}

template <class V, int MR, int NV, int ME, int NE>
void micro_edge_cols(int64_t ne, int64_t k, const typename V::T* a, const typename V::T* b,
                     typename V::T* tile) {
  if constexpr (NE < NV) {
    if (ne > NE) return micro_edge_cols<V, MR, NV, ME, NE + 1>(ne, k, a, b, tile);
  }
  micro_edge_fixed<V, MR, NV, ME, NE>(k, a, b, tile);
}

template <class V, int MR, int NV, int ME>
void micro_edge_rows(int64_t me, int64_t ne, int64_t k, const typename V::T* a,
                     const typename V::T* b, typename V::T* tile) {
  if constexpr (ME < MR) {
    if (me > ME) return micro_edge_rows<V, MR, NV, ME + 1>(me, ne, k, a, b, tile);
  }
  micro_edge_cols<V, MR, NV, ME, 1>(ne, k, a, b, tile);
}

template <class V, int MR, int NV>
void micro_edge(int64_t mr_used, int64_t nr_used, int64_t k, const typename V::T* a,
                const typename V::T* b, typename V::T* tile) {
  micro_edge_rows<V, MR, NV, 1>(mr_used, (nr_used + V::W - 1) / V::W, k, a, b, tile);
}

// ---------------------------------------------------------------- small path
//
// No packing: a tile of RR rows x NV vectors reads B(p, j..) straight from
// memory (needs csb == 1, or n == 1 where only lane 0 is touched) and
// broadcasts A(i, p) from any strides. Masked loads and stores cover the
// column tail, smaller row tiles (RR = 4, 2, 1) the row tail. k is cut into
// blocks of kSmallKc so the rows of B in use stay in cache for large k.

constexpr int64_t kSmallKc = 512;

template <class V, int RR, int NV, bool kTail>
void small_tile(int64_t k, const typename V::T* a, int64_t rsa, int64_t csa,
                const typename V::T* b, int64_t rsb, int64_t cols, typename V::T* c,
                int64_t rsc, int64_t csc, typename V::T alpha, typename V::T beta) {
  using T = typename V::T;
  using R = typename V::R;
  using M = typename V::M;
  constexpr int W = V::W;
  R acc[RR][NV];
  M mk[NV];
  PYNN_UNROLL for (int v = 0; v < NV; ++v) {
    const int64_t left = cols - v * W;
    mk[v] = V::mask(left < 0 ? 0 : left > W ? W : left);
    PYNN_UNROLL for (int i = 0; i < RR; ++i) acc[i][v] = V::zero();
  }
  for (int64_t p = 0; p < k; ++p, a += csa, b += rsb) {
    R bv[NV];
    PYNN_UNROLL for (int v = 0; v < NV; ++v) bv[v] = kTail ? V::loadm(b + v * W, mk[v]) : V::loadu(b + v * W);
    PYNN_UNROLL for (int i = 0; i < RR; ++i) {
      const R ai = V::set1(a[i * rsa]);
      PYNN_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
    }
  }
  const R va = V::set1(alpha);
  const R vb = V::set1(beta);
  if (csc == 1) {
    PYNN_UNROLL for (int i = 0; i < RR; ++i) {
      PYNN_UNROLL for (int v = 0; v < NV; ++v) {
        T* cv = c + i * rsc + v * W;
        R x = V::mul(va, acc[i][v]);
        if (kTail) {
          if (beta != T(0)) x = V::fma(vb, V::loadm(cv, mk[v]), x);
          V::storem(cv, mk[v], x);
        } else {
          if (beta != T(0)) x = V::fma(vb, V::loadu(cv), x);
          V::storeu(cv, x);
        }
      }
    }
    return;
  }
  alignas(64) T tile[RR * NV * W];
  PYNN_UNROLL for (int i = 0; i < RR; ++i) {
    PYNN_UNROLL for (int v = 0; v < NV; ++v) V::storeu(tile + (i * NV + v) * W, acc[i][v]);
  }
  for (int i = 0; i < RR; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      T* cij = c + i * rsc + j * csc;
      const T x = alpha * tile[i * NV * W + j];
      *cij = beta == T(0) ? x : x + beta * *cij;
    }
}

template <class V, int RR, int NV>
void small_rows(int64_t n, int64_t k, const typename V::T* a, int64_t rsa, int64_t csa,
                const typename V::T* b, int64_t rsb, typename V::T* c, int64_t rsc, int64_t csc,
                typename V::T alpha, typename V::T beta) {
  constexpr int64_t NB = NV * V::W;
  int64_t j = 0;
  for (; j + NB <= n; j += NB)
    small_tile<V, RR, NV, false>(k, a, rsa, csa, b + j, rsb, NB, c + j * csc, rsc, csc, alpha, beta);
  if (j < n)
    small_tile<V, RR, NV, true>(k, a, rsa, csa, b + j, rsb, n - j, c + j * csc, rsc, csc, alpha, beta);
}

template <class V, int RR, int NV>
void small_block(int64_t m, int64_t n, int64_t k, typename V::T alpha, const typename V::T* a,
                 int64_t rsa, int64_t csa, const typename V::T* b, int64_t rsb,
                 typename V::T beta, typename V::T* c, int64_t rsc, int64_t csc) {
  // A tail of 2 rows after 6-row tiles is done as 4 + 4 rows instead: a
  // 2-row tile does 2 FMAs per B vector load and runs at a third of the speed.
  int64_t full = m / RR;
  if (RR == 6 && m % RR == 2 && full > 0) --full;
  int64_t i = 0;
  for (; i < full * RR; i += RR)
    small_rows<V, RR, NV>(n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta);
  if constexpr (RR > 4) {
    while (m - i >= 4) {
      small_rows<V, 4, NV>(n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta);
      i += 4;
    }
  }
  if constexpr (RR > 2) {
    if (m - i >= 2) {
      small_rows<V, 2, NV>(n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta);
      i += 2;
    }
  }
  for (; i < m; ++i)
    small_rows<V, 1, NV>(n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta);
}

// Entry: RR1 / RR2 / RR4 rows per tile for tiles of 1 / 2 / 4 vectors
// (RR4 == 0: tiles of at most 2 vectors).
template <class V, int RR1, int RR2, int RR4>
void small(int64_t m, int64_t n, int64_t k, typename V::T alpha, const typename V::T* a,
           int64_t rsa, int64_t csa, const typename V::T* b, int64_t rsb, int64_t /*csb*/,
           typename V::T beta, typename V::T* c, int64_t rsc, int64_t csc) {
  using T = typename V::T;
  constexpr int W = V::W;
  for (int64_t p = 0; p < k; p += kSmallKc) {
    const int64_t kb = k - p < kSmallKc ? k - p : kSmallKc;
    const T be = p == 0 ? beta : T(1);
    const T* ap = a + p * csa;
    const T* bp = b + p * rsb;
    if (n <= W)
      small_block<V, RR1, 1>(m, n, kb, alpha, ap, rsa, csa, bp, rsb, be, c, rsc, csc);
    else if (RR4 == 0 || n <= 2 * W)
      small_block<V, RR2, 2>(m, n, kb, alpha, ap, rsa, csa, bp, rsb, be, c, rsc, csc);
    else
      small_block<V, (RR4 > 0 ? RR4 : 1), 4>(m, n, kb, alpha, ap, rsa, csa, bp, rsb, be, c, rsc, csc);
  }
}

#undef PYNN_UNROLL
