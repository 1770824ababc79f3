// kernel_table.h: the element-wise and reduction inner loops, per ISA.
//
// Note [Kernel table]
// Each op is a functor in loops.h plus one line in the lists below. The loops
// are instantiated for every dtype in kernels_isa.cpp, which CMake compiles
// three times (baseline x86-64, AVX2+FMA, AVX-512) into three tables; kernels()
// returns the table of the ISA in use (core/cpu.h). A null entry means the op
// does not take that dtype; type resolution (elementwise.cpp) never asks for it.
#pragma once

#include "core/dtype.h"
#include "core/iter.h"

namespace pynn {

// X(name): one line per op.
#define PYNN_BINARY_OPS(X) \
  X(add)                   \
  X(subtract)              \
  X(multiply)              \
  X(divide)                \
  X(power)                 \
  X(maximum)               \
  X(minimum)               \
  X(equal)                 \
  X(not_equal)             \
  X(greater)               \
  X(greater_equal)         \
  X(less)                  \
  X(less_equal)            \
  X(relu_grad)             \
  X(sigmoid_grad)          \
  X(tanh_grad)             \
  X(bce_logits)            \
  X(bce_logits_grad)

#define PYNN_UNARY_OPS(X) \
  X(negative)             \
  X(abs)                  \
  X(exp)                  \
  X(log)                  \
  X(sqrt)                 \
  X(square)               \
  X(tanh)                 \
  X(sigmoid)              \
  X(relu)

enum class BinaryOp : int {
#define PYNN_ENUM_ENTRY(name) name,
  PYNN_BINARY_OPS(PYNN_ENUM_ENTRY)
#undef PYNN_ENUM_ENTRY
};
enum class UnaryOp : int {
#define PYNN_ENUM_ENTRY(name) name,
  PYNN_UNARY_OPS(PYNN_ENUM_ENTRY)
#undef PYNN_ENUM_ENTRY
};
#define PYNN_COUNT_ENTRY(name) +1
constexpr int kNumBinaryOps = 0 PYNN_BINARY_OPS(PYNN_COUNT_ENTRY);
constexpr int kNumUnaryOps = 0 PYNN_UNARY_OPS(PYNN_COUNT_ENTRY);
#undef PYNN_COUNT_ENTRY

// Note [Fused optimizer updates]
// One pass over flat, contiguous buffers per update (NumPy needs several):
// bufs = {var, grad, slot1, slot2} (slots as the rule needs), h = the rule's
// scalars. The formulas are Keras 3's, epsilon placement included:
//   sgd      h = {lr, momentum, nesterov}: momentum == 0: var -= lr g; else
//            m = momentum m - lr g; var += nesterov ? momentum m - lr g : m
//   rmsprop  h = {lr, rho, momentum, epsilon}: v = rho v + (1 - rho) g^2;
//            step = lr g / sqrt(v + epsilon); momentum > 0: m = momentum m + step,
//            var -= m; else var -= step
//   adam     h = {alpha, beta1, beta2, epsilon, decay}: var -= decay var (AdamW's
//            lr * weight_decay, 0 for Adam); m += (g - m)(1 - beta1);
//            v += (g^2 - v)(1 - beta2); var -= alpha m / (sqrt(v) + epsilon) with
//            alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) computed by the caller
//   adagrad  h = {lr, epsilon}: a += g^2; var -= lr g / sqrt(a + epsilon)
enum class OptimRule : int { sgd, rmsprop, adam, adagrad };
constexpr int kNumOptimRules = 4;
using OptimLoop = void (*)(char* const* bufs, int64_t n, const double* h);

// Note [Row kernels]
// Softmax-like kernels see a (rows, cols) view: element (r, c) of x is at
// x + r * x_rs + c * x_cs (bytes). Each row is reduced with max and
// log-sum-exp (stable for any magnitude), then:
//   softmax      out = exp(x - m) / s
//   log_softmax  out = x - m - log(s)
//   xent_labels  loss[r] = lse - x[r, label[r]] (label: int64 per row);
//                out (if given) = (softmax - onehot) * scale
//   xent_probs   loss[r] = sum_c t[r, c] (lse - x[r, c]);
//                out (if given) = (softmax - t) * scale
// with m the row max, s = sum exp(x - m) and lse = m + log(s). `out` may be
// null for the cross-entropies (forward without the gradient).
enum class RowsKernel : int { softmax, log_softmax, xent_labels, xent_probs };
constexpr int kNumRowsKernels = 4;
struct RowsArgs {
  const char* x;
  int64_t x_rs, x_cs;
  char* out;
  int64_t out_rs, out_cs;
  const char* target;  // xent_labels: int64 labels (t_rs between rows); xent_probs: like x
  int64_t t_rs, t_cs;
  char* loss;  // per-row loss, stride loss_s
  int64_t loss_s;
  int64_t rows, cols;
  double scale;
};
using RowsLoop = void (*)(const RowsArgs& a);

const char* binary_op_name(BinaryOp op);
const char* unary_op_name(UnaryOp op);

struct KernelTable {
  // (out, a, b), indexed by the compute dtype of a and b; out has that dtype,
  // or bool for comparisons.
  InnerLoop binary[kNumBinaryOps][kNumDTypes];
  // (out, x), indexed by the dtype of x; out dtype: see unary_result_dtype().
  InnerLoop unary[kNumUnaryOps][kNumDTypes];
  InnerLoop cast[kNumDTypes][kNumDTypes];  // [from][to]: (out, x)
  InnerLoop where[kNumDTypes];             // (out, cond: bool, a, b)
  InnerLoop clip[kNumDTypes];              // (out, x, lo, hi)
  // Reductions (Note [Reductions] in reduce.cpp), 2-D loops. The accumulator
  // operand has stride 0 along reduced axes; sums accumulate in double
  // (floats) or int64.
  InnerLoop2D reduce_sum[kNumDTypes];        // (acc, x)
  InnerLoop2D reduce_sum_f64[kNumDTypes];    // (acc: float64, x): mean's sum, in double for every dtype
  InnerLoop2D reduce_max[kNumDTypes];        // (acc, x), acc of the dtype
  InnerLoop2D reduce_min[kNumDTypes];
  InnerLoop2D reduce_argmax[kNumDTypes];     // (acc_val, acc_idx: int64, x, idx: int64)
  InnerLoop2D reduce_argmin[kNumDTypes];
  OptimLoop optim[kNumOptimRules][2];      // [rule][0: float32, 1: float64]
  RowsLoop rows[kNumRowsKernels][2];        // [kernel][0: float32, 1: float64]
};

const KernelTable& kernels();

void fill_kernel_table_generic(KernelTable* t);
void fill_kernel_table_avx2(KernelTable* t);
void fill_kernel_table_avx512(KernelTable* t);

}  // namespace pynn
