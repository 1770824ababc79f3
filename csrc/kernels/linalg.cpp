// Note [One GEMM]
// Every matrix product in pynn (matmul, dot, tensordot, and the layer kernels)
// ends in gemm_2d, which hands the operands' strides to the BLIS-style GEMM.
// A transposed or negatively strided operand is a stride swap, never a copy.
// matmul folds the batch into the rows when that is a view (a (b,m,k) tensor
// times a shared (k,n) matrix is one (b*m,k) @ (k,n) product), and otherwise
// runs one product per batch entry, in parallel when the products are small.
#include "linalg.h"

#include "core/parallel.h"
#include "elementwise.h"
#include "gemm/gemm.h"

namespace pynn {

namespace {

// C = A @ B for each element type, in the GEMM's own signature (floating
// point: alpha = 1, beta = 0, so C is never read).
void gemm_typed(int64_t m, int64_t n, int64_t k, const float* A, int64_t rsa, int64_t csa, const float* B,
                int64_t rsb, int64_t csb, float* C, int64_t rsc, int64_t csc, bool acc, const GemmEpilogue* epi) {
  gemm_f32(m, n, k, 1.0f, A, rsa, csa, B, rsb, csb, acc ? 1.0f : 0.0f, C, rsc, csc, epi);
}
void gemm_typed(int64_t m, int64_t n, int64_t k, const double* A, int64_t rsa, int64_t csa, const double* B,
                int64_t rsb, int64_t csb, double* C, int64_t rsc, int64_t csc, bool acc, const GemmEpilogue* epi) {
  gemm_f64(m, n, k, 1.0, A, rsa, csa, B, rsb, csb, acc ? 1.0 : 0.0, C, rsc, csc, epi);
}
void gemm_typed(int64_t m, int64_t n, int64_t k, const int32_t* A, int64_t rsa, int64_t csa, const int32_t* B,
                int64_t rsb, int64_t csb, int32_t* C, int64_t rsc, int64_t csc, bool, const GemmEpilogue*) {
  gemm_i32(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}
void gemm_typed(int64_t m, int64_t n, int64_t k, const int64_t* A, int64_t rsa, int64_t csa, const int64_t* B,
                int64_t rsb, int64_t csb, int64_t* C, int64_t rsc, int64_t csc, bool, const GemmEpilogue*) {
  gemm_i64(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}
void gemm_typed(int64_t m, int64_t n, int64_t k, const uint8_t* A, int64_t rsa, int64_t csa, const uint8_t* B,
                int64_t rsb, int64_t csb, uint8_t* C, int64_t rsc, int64_t csc, bool, const GemmEpilogue*) {
  gemm_u8(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}
void gemm_typed(int64_t m, int64_t n, int64_t k, const bool* A, int64_t rsa, int64_t csa, const bool* B,
                int64_t rsb, int64_t csb, bool* C, int64_t rsc, int64_t csc, bool, const GemmEpilogue*) {
  gemm_bool(m, n, k, A, rsa, csa, B, rsb, csb, C, rsc, csc);
}

}  // namespace

void gemm_2d(const Tensor& a, const Tensor& b, const Tensor& c, bool accumulate, const GemmEpilogue* epilogue) {
  PYNN_ASSERT(!accumulate || is_float(a.dtype), "gemm_2d: accumulate is for floating point");
  PYNN_ASSERT(!epilogue || is_float(a.dtype), "gemm_2d: an epilogue is for floating point");
  const int64_t e = a.elsize();
  dispatch_dtype(a.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    gemm_typed(a.shape[0], b.shape[1], a.shape[1], reinterpret_cast<const T*>(a.data()), a.strides[0] / e,
               a.strides[1] / e, reinterpret_cast<const T*>(b.data()), b.strides[0] / e, b.strides[1] / e,
               reinterpret_cast<T*>(c.data()), c.strides[0] / e, c.strides[1] / e, accumulate, epilogue);
  });
}

namespace {

// 2-D view of t's last two axes at batch offset `off` (bytes).
Tensor matrix_at(const Tensor& t, int64_t off) {
  Tensor v = t;
  int nd = t.ndim();
  v.offset = t.offset + off;
  v.shape = Dims{t.shape[nd - 2], t.shape[nd - 1]};
  v.strides = Dims{t.strides[nd - 2], t.strides[nd - 1]};
  return v;
}

// a: (..., m, k) @ b: (..., k, n) -> a new (batch..., m, n) tensor, so the
// output never overlaps an operand.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  // a: (..., m, k), b: (..., k, n), both at least 2-D, same dtype.
  const int na = a.ndim(), nb = b.ndim();
  const int64_t m = a.shape[na - 2], k = a.shape[na - 1], n = b.shape[nb - 1];
  Dims ba, bb;
  for (int i = 0; i < na - 2; ++i) ba.push_back(a.shape[i]);
  for (int i = 0; i < nb - 2; ++i) bb.push_back(b.shape[i]);
  Dims batch = broadcast_shapes("matmul", ba, bb);
  Dims out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = tensor_empty(out_shape, a.dtype);
  const int64_t nbatch = shape_numel(batch);
  if (shape_numel(out_shape) == 0) return out;

  // Broadcast batch strides of a and b.
  Dims full_a = batch, full_b = batch;
  full_a.push_back(m); full_a.push_back(k);
  full_b.push_back(k); full_b.push_back(n);
  Tensor av = tensor_broadcast_to("matmul", a, full_a), bv = tensor_broadcast_to("matmul", b, full_b);

  // Fold the batch into the rows when b is shared and a's batch axes chain with its rows.
  bool b_shared = true, a_chain = true;
  int64_t expect = av.strides[batch.n];  // row stride
  expect *= m;
  for (int i = batch.n - 1; i >= 0; --i) {
    if (bv.strides[i] != 0 && batch[i] != 1) b_shared = false;
    if (batch[i] != 1 && av.strides[i] != expect) a_chain = false;
    expect *= batch[i];
  }
  if (nbatch == 1 || (b_shared && a_chain && m > 0)) {
    Tensor a2 = av, c2 = out;
    a2.shape = Dims{nbatch * m, k};
    a2.strides = Dims{av.strides[batch.n], av.strides[batch.n + 1]};
    c2.shape = Dims{nbatch * m, n};
    c2.strides = Dims{out.strides[batch.n], out.strides[batch.n + 1]};
    gemm_2d(a2, matrix_at(bv, 0), c2);
    return out;
  }
  auto run = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      int64_t rest = i, oa = 0, ob = 0, oc = 0;
      for (int d = batch.n - 1; d >= 0; --d) {
        int64_t idx = rest % batch[d];
        rest /= batch[d];
        oa += idx * av.strides[d];
        ob += idx * bv.strides[d];
        oc += idx * out.strides[d];
      }
      gemm_2d(matrix_at(av, oa), matrix_at(bv, ob), matrix_at(out, oc));
    }
  };
  // Small products: one per thread; large ones: the GEMM threads inside.
  int64_t work;  // m * n fits (the output exists); k of a broadcast view may not
  if (__builtin_mul_overflow(m * n, k, &work)) work = INT64_MAX;
  if (work < (int64_t{1} << 18)) parallel_for(nbatch, 1 + (int64_t{1} << 18) / (work + 1), run);
  else run(0, nbatch);
  return out;
}

}  // namespace

Tensor linalg_matmul(const Tensor& a_in, const Tensor& b_in) {
  PYNN_CHECK(a_in.ndim() >= 1 && b_in.ndim() >= 1, "matmul: input operand ", a_in.ndim() == 0 ? 0 : 1,
             " does not have enough dimensions (a 0-d operand; use multiply)");
  DType d = promote(a_in.dtype, b_in.dtype);
  Tensor a = a_in.dtype == d ? a_in : ew_astype(a_in, d);
  Tensor b = b_in.dtype == d ? b_in : ew_astype(b_in, d);
  const bool a1 = a.ndim() == 1, b1 = b.ndim() == 1;
  if (a1) a = tensor_expand_dims(a, {0});
  if (b1) b = tensor_expand_dims(b, {1});
  const int64_t ka = a.shape[a.ndim() - 1], kb = b.shape[b.ndim() - 2];
  PYNN_CHECK(ka == kb, "matmul: ", a_in.shape, " @ ", b_in.shape, ": inner dimensions ", ka, " and ", kb, " differ");
  Tensor r = matmul_nd(a, b);
  if (a1 || b1) {
    Dims s;
    for (int i = 0; i < r.ndim(); ++i) {
      if (a1 && i == r.ndim() - 2) continue;
      if (b1 && i == r.ndim() - 1) continue;
      s.push_back(r.shape[i]);
    }
    r = ew_reshape(r, s);
  }
  return r;
}

Tensor linalg_dot(const Tensor& a_in, const Tensor& b_in) {
  if (a_in.ndim() == 0 || b_in.ndim() == 0) return ew_binary(BinaryOp::multiply, a_in, b_in, nullptr);
  DType d = promote(a_in.dtype, b_in.dtype);
  Tensor a = a_in.dtype == d ? a_in : ew_astype(a_in, d);
  Tensor b = b_in.dtype == d ? b_in : ew_astype(b_in, d);
  const int na = a.ndim(), nb = b.ndim();
  const int bk_axis = nb == 1 ? 0 : nb - 2;
  const int64_t ka = a.shape[na - 1], kb = b.shape[bk_axis];
  PYNN_CHECK(ka == kb, "dot: shapes ", a_in.shape, " and ", b_in.shape, " not aligned: ", ka, " (dim ", na - 1,
             ") != ", kb, " (dim ", bk_axis, ")");
  if (na <= 2 && nb <= 2) return linalg_matmul(a, b);
  // General N-D: contract a's last axis with b's second-to-last (or only) axis.
  return linalg_tensordot(a, b, {na - 1}, {bk_axis});
}

Tensor linalg_tensordot(const Tensor& a_in, const Tensor& b_in, const std::vector<int64_t>& axes_a_in,
                        const std::vector<int64_t>& axes_b_in) {
  PYNN_CHECK(axes_a_in.size() == axes_b_in.size(), "tensordot: the axes lists have different lengths (",
             axes_a_in.size(), " and ", axes_b_in.size(), ")");
  DType d = promote(a_in.dtype, b_in.dtype);
  Tensor a = a_in.dtype == d ? a_in : ew_astype(a_in, d);
  Tensor b = b_in.dtype == d ? b_in : ew_astype(b_in, d);
  const int na = a.ndim(), nb = b.ndim();
  bool in_a[kMaxDims] = {}, in_b[kMaxDims] = {};
  std::vector<int64_t> ca, cb;
  int64_t kk = 1;
  for (size_t i = 0; i < axes_a_in.size(); ++i) {
    int x = normalize_axis("tensordot", axes_a_in[i], na), y = normalize_axis("tensordot", axes_b_in[i], nb);
    PYNN_CHECK(!in_a[x] && !in_b[y], "tensordot: repeated axis");
    PYNN_CHECK(a.shape[x] == b.shape[y], "tensordot: shape-mismatch for sum: ", a_in.shape, " axis ", x, " (",
               a.shape[x], ") and ", b_in.shape, " axis ", y, " (", b.shape[y], ")");
    in_a[x] = in_b[y] = true;
    ca.push_back(x);
    cb.push_back(y);
    kk *= a.shape[x];
  }
  // a -> (free_a..., contracted...) -> (M, K); b -> (contracted..., free_b...) -> (K, N).
  std::vector<int64_t> perm_a, perm_b;
  Dims out_shape;
  int64_t mm = 1, nn = 1;
  for (int i = 0; i < na; ++i)
    if (!in_a[i]) { perm_a.push_back(i); out_shape.push_back(a.shape[i]); mm *= a.shape[i]; }
  for (int64_t x : ca) perm_a.push_back(x);
  for (int64_t y : cb) perm_b.push_back(y);
  for (int i = 0; i < nb; ++i)
    if (!in_b[i]) { perm_b.push_back(i); out_shape.push_back(b.shape[i]); nn *= b.shape[i]; }
  Tensor a2 = ew_reshape(tensor_transpose(a, perm_a), Dims{mm, kk});
  Tensor b2 = ew_reshape(tensor_transpose(b, perm_b), Dims{kk, nn});
  Tensor c = tensor_empty(Dims{mm, nn}, d);
  if (mm * nn > 0) gemm_2d(a2, b2, c);
  return ew_reshape(c, out_shape);
}

}  // namespace pynn
