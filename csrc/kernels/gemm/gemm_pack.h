// gemm_pack.h: the packing loops shared by the per-ISA GEMM files.
//
// Include ONLY from gemm_generic.cpp / gemm_avx2.cpp / gemm_avx512.cpp, inside
// their anonymous namespace and after all their #includes (Note [GEMM ISA
// files]): everything here gets internal linkage and the ISA of the includer.
// This file includes nothing itself.
//
// Packed layouts (see GemmKernels in gemm_internal.h):
//   A block:  micro-panels of R = MR rows,    element (r, p) at [p*MR + r]
//   B panel:  micro-panels of R = NR columns, element (p, j) at [p*NR + j]
// Both are "R values of one p, then the next p", so one routine packs either:
// pack_panels<T, R>(len, kc, src, s_r, s_p, dst) with element (r, p) of the
// source at src[r*s_r + p*s_p]. A uses (s_r, s_p) = (rsa, csa), B uses
// (csb, rsb). Edge panels are zero-padded to R.
//
// The two common unit-stride cases are specialised:
//   s_r == 1 (A column-major / A^T of row-major, B row-major): each p copies R
//     contiguous values;
//   s_p == 1 (A row-major, B^T of row-major): a transpose, done by
//     Tr::transpose<R>(kc, src, s_r, dst), which an ISA file may implement
//     with SIMD shuffles; ScalarTranspose below is the plain version.

struct ScalarTranspose {
  // dst[p*R + r] = src[r*ld + p] for r < R, p < kc.
  template <int R, class T>
  static void transpose(int64_t kc, const T* src, int64_t ld, T* dst) {
    constexpr int64_t kB = 8;  // p-block: reads 8 contiguous values per row
    for (int64_t p0 = 0; p0 < kc; p0 += kB) {
      const int64_t pb = kc - p0 < kB ? kc - p0 : kB;
      for (int r = 0; r < R; ++r) {
        const T* s = src + r * ld + p0;
        T* d = dst + p0 * R + r;
        for (int64_t q = 0; q < pb; ++q) d[q * R] = s[q];
      }
    }
  }
};

template <int R, class Tr, class T>
void pack_panels(int64_t len, int64_t kc, const T* src, int64_t s_r, int64_t s_p, T* dst) {
  for (int64_t r0 = 0; r0 < len; r0 += R, dst += R * kc) {
    const int64_t rows = len - r0 < R ? len - r0 : R;
    const T* s = src + r0 * s_r;
    if (rows == R && s_r == 1) {
      for (int64_t p = 0; p < kc; ++p) {
        const T* sp = s + p * s_p;
        T* d = dst + p * R;
        for (int r = 0; r < R; ++r) d[r] = sp[r];
      }
    } else if (rows == R && s_p == 1) {
      Tr::template transpose<R>(kc, s, s_r, dst);
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        T* d = dst + p * R;
        for (int64_t r = 0; r < rows; ++r) d[r] = s[r * s_r + p * s_p];
        for (int64_t r = rows; r < R; ++r) d[r] = T(0);
      }
    }
  }
}

template <int MR, class Tr, class T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, T* dst) {
  pack_panels<MR, Tr>(mc, kc, a, rsa, csa, dst);
}

template <int NR, class Tr, class T>
void pack_b(int64_t kc, int64_t nc, const T* b, int64_t rsb, int64_t csb, T* dst) {
  pack_panels<NR, Tr>(nc, kc, b, csb, rsb, dst);
}
