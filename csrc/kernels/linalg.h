// linalg.h: matmul, dot and tensordot with NumPy's shape rules, all through
// the one GEMM (gemm/gemm.h).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "gemm/gemm.h"

namespace pynn {

// C[m,n] = A[m,k] @ B[k,n] for 2-D views of one dtype (any strides); C is a
// 2-D view that does not overlap A or B. The single entry point to the GEMM.
// accumulate: C += A @ B (floating point only) instead of C = A @ B.
// epilogue: run on each finished block of C (Note [GEMM epilogue]; floating point only).
void gemm_2d(const Tensor& a, const Tensor& b, const Tensor& c, bool accumulate = false,
             const GemmEpilogue* epilogue = nullptr);

Tensor linalg_matmul(const Tensor& a, const Tensor& b);
Tensor linalg_dot(const Tensor& a, const Tensor& b);
Tensor linalg_tensordot(const Tensor& a, const Tensor& b, const std::vector<int64_t>& axes_a,
                        const std::vector<int64_t>& axes_b);

}  // namespace pynn
