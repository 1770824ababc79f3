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

// Note [Activation registry]
// The element-wise activations shared by pynn.activations, Dense(activation=)
// and the dense kernel's epilogue (Note [GEMM epilogue] in nn.h). X(name): a
// functor act_<name> in loops.h with f(x, h), its derivative d(x, y, h)
// (y = f(x)) and second derivative dd(x, y, h) (for nested tapes), h = the
// activation's scalars (up to kActParams, in the
// functor's type). Float32/float64 only. Loops, with h a double[kActParams]
// passed as an operand of stride 0 (as clip's bounds are):
//   act[op]      (y, x, h)
//   act_grad[op] (dx, dy, x, y, h): dx = dy * d(x, y, h)
// Conventions: NaN in gives NaN out; at +-inf the functors give the
// function's limit (silu(-inf) = 0, softsign(inf) = 1), not inf * 0 = NaN.
//   relu         h = {slope, threshold, lo, hi}: x > threshold ? clip(x, lo, hi)
//                : slope (x - threshold) (Keras' relu with negative_slope,
//                max_value, threshold; lo = -inf, hi = inf without max_value)
//   leaky_relu   h = {slope}: max(x, slope x)
//   elu          h = {alpha, scale}: scale (x >= 0 ? x : alpha expm1(x)) (selu too)
//   celu         h = {alpha}: max(x, 0) + alpha expm1(min(x, 0) / alpha)
//   softplus     log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
//   log_sigmoid  -softplus(-x)
//   softsign     x / (1 + |x|)
//   silu         x sigmoid(x)
//   gelu         x Phi(x) = x (1 + erf(x / sqrt 2)) / 2
//   gelu_tanh    x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2
//   mish         x tanh(softplus(x))
//   hard_sigmoid clip(x / 6 + 1/2, 0, 1)
//   hard_silu    x hard_sigmoid(x)
//   hard_tanh    clip(x, -1, 1)
//   sigmoid, tanh, exponential (e^x)
//   soft_shrink  h = {t}: x > t ? x - t : x < -t ? x + t : 0
//   hard_shrink  h = {t}: |x| > t ? x : 0
//   tanh_shrink  x - tanh(x)
//   squareplus   h = {b}: (x + sqrt(x^2 + b)) / 2 (b / (2 (sqrt(x^2 + b) - x)) for x < 0)
//   sparse_plus  x <= -1 ? 0 : x < 1 ? (x + 1)^2 / 4 : x
//   sparse_sigmoid x <= -1 ? 0 : x >= 1 ? 1 : (x + 1) / 2
//   threshold    h = {t, v}: x > t ? x : v
#define PYNN_ACTIVATIONS(X) \
  X(relu)                   \
  X(leaky_relu)             \
  X(elu)                    \
  X(celu)                   \
  X(softplus)               \
  X(log_sigmoid)            \
  X(softsign)               \
  X(silu)                   \
  X(gelu)                   \
  X(gelu_tanh)              \
  X(mish)                   \
  X(hard_sigmoid)           \
  X(hard_silu)              \
  X(hard_tanh)              \
  X(sigmoid)                \
  X(tanh)                   \
  X(exponential)            \
  X(soft_shrink)            \
  X(hard_shrink)            \
  X(tanh_shrink)            \
  X(squareplus)             \
  X(sparse_plus)            \
  X(sparse_sigmoid)         \
  X(threshold)

enum class ActOp : int {
#define PYNN_ENUM_ENTRY(name) name,
  PYNN_ACTIVATIONS(PYNN_ENUM_ENTRY)
#undef PYNN_ENUM_ENTRY
};
#define PYNN_COUNT_ENTRY(name) +1
constexpr int kNumActOps = 0 PYNN_ACTIVATIONS(PYNN_COUNT_ENTRY);
#undef PYNN_COUNT_ENTRY
static_assert(kNumActOps == 24, "PYNN_ACTIVATIONS: update the count when adding an activation");
constexpr int kActParams = 4;

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
// bufs = {var, grad, slots...} (as many slots as the rule needs), h = the
// rule's scalars. The formulas are Keras 3's, epsilon placement included.
// `decay` (last scalar where present) is lr * weight_decay, applied first as
// Keras' _apply_weight_decay does: w = var - decay var; 0 for none.
//   sgd      h = {lr, momentum, nesterov}: momentum == 0: var -= lr g; else
//            m = momentum m - lr g; var += nesterov ? momentum m - lr g : m
//   rmsprop  h = {lr, rho, momentum, epsilon}: v = rho v + (1 - rho) g^2;
//            step = lr g / sqrt(v + epsilon); momentum > 0: m = momentum m + step,
//            var -= m; else var -= step
//   adam     h = {alpha, beta1, beta2, epsilon, decay}: m += (g - m)(1 - beta1);
//            v += (g^2 - v)(1 - beta2); w -= alpha m / (sqrt(v) + epsilon) with
//            alpha = lr sqrt(1 - beta2^t) / (1 - beta1^t) computed by the caller
//   adagrad  h = {lr, epsilon}: a += g^2; var -= lr g / sqrt(a + epsilon)
//   adam_amsgrad  slots {m, v, vhat}, h as adam: after m and v,
//            vhat = max(vhat, v); w -= alpha m / (sqrt(vhat) + epsilon)
//   rmsprop_centered  slots {v, mg, m (momentum > 0)}, h as rmsprop:
//            v = rho v + (1 - rho) g^2; mg = rho mg + (1 - rho) g;
//            step = lr g / sqrt(v - mg^2 + epsilon); then as rmsprop
//   adamax   slots {m, u}, h = {lr, beta1, beta2, epsilon, 1 - beta1^t, decay}:
//            m += (g - m)(1 - beta1); u = max(beta2 u, |g|);
//            w -= lr m / ((1 - beta1^t)(u + epsilon))
//   nadam    slots {m, v}, h = {lr, beta1, beta2, epsilon, cm, cg, 1 - beta2^t,
//            decay}: m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
//            w -= lr (cm m + cg g) / (sqrt(v / (1 - beta2^t)) + epsilon), the
//            caller's cm = u_{t+1} / (1 - prod_{s<=t+1} u_s) and
//            cg = (1 - u_t) / (1 - prod_{s<=t} u_s), u_s = beta1 (1 - 0.96^s / 2)
//   adadelta slots {ag, ad}, h = {lr, rho, epsilon, decay}: ag = rho ag + (1 - rho) g^2;
//            d = -sqrt(ad + epsilon) g / sqrt(ag + epsilon); ad = rho ad + (1 - rho) d^2;
//            w += lr d
//   lion     slots {m}, h = {lr, beta1, beta2, decay}:
//            w -= lr sign(beta1 m + (1 - beta1) g); m = beta2 m + (1 - beta2) g
//   ftrl     slots {n, z}, h = {lr, p (learning_rate_power), l1, l2 + beta / (2 lr),
//            l2_shrinkage, decay}: n' = n + g^2;
//            z += g + 2 l2_shrinkage w - (n'^-p - n^-p) / lr w;
//            w = (clip(z, -l1, l1) - z) / (n'^-p / lr + 2 (l2 + beta / (2 lr))); n = n'
// X(name, most slots, scalars): one line per rule.
#define PYNN_OPTIM_RULES(X)  \
  X(sgd, 1, 3)               \
  X(rmsprop, 2, 4)           \
  X(adam, 2, 5)              \
  X(adagrad, 1, 2)           \
  X(adam_amsgrad, 3, 5)      \
  X(rmsprop_centered, 3, 4)  \
  X(adamax, 2, 6)            \
  X(nadam, 2, 8)             \
  X(adadelta, 2, 4)          \
  X(lion, 1, 4)              \
  X(ftrl, 2, 6)

enum class OptimRule : int {
#define PYNN_ENUM_ENTRY(name, slots, scalars) name,
  PYNN_OPTIM_RULES(PYNN_ENUM_ENTRY)
#undef PYNN_ENUM_ENTRY
};
#define PYNN_COUNT_ENTRY(name, slots, scalars) +1
constexpr int kNumOptimRules = 0 PYNN_OPTIM_RULES(PYNN_COUNT_ENTRY);
#undef PYNN_COUNT_ENTRY
constexpr int kMaxOptimSlots = 3;  // the most slots of any rule above
// Inverted dropout of n contiguous elements whose flat indices start at
// `first` (Note [Dropout masks] in nn.cpp): out[j] = in[j] * (kept ? scale : 0),
// element i kept when hash(key, i) >= threshold (rate * 2^32).
using DropoutLoop = void (*)(char* out, const char* in, int64_t first, int64_t n, uint64_t key, uint32_t threshold,
                             double scale);
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

// Batch-norm loops (Note [Batch norm] in norm.h), float32/float64 only; x and
// dy contiguous, seen as (rows, C, inner). The sums add into double per-feature
// accumulators s0[c], s1[c] (c < cols) over `rows` rows row_stride elements
// apart, each row holding cols runs of `inner` elements, m[c] the feature's mean:
//   x                  s0 += x
//   squared_deviation  s0 += (x - m)^2
//   dy_deviation       s0 += dy, s1 += dy (x - m)
// The element-wise loops write out[i] for the flat elements [begin, end) of
// (rows, c, inner), from p: 4 arrays of c parameters of the dtype, p0..p3:
//   normalize       out = (x - p0) p1 + p2            (p1 = gamma inv_std, p2 = beta)
//   training_grad   out = (x - p0) p1 + dy p2 + p3    (Note [Batch norm])
//   inference_grad  out = dy p2                       (p2 = gamma inv_std)
enum class NormSum : int { x, squared_deviation, dy_deviation };
constexpr int kNumNormSums = 3;
struct NormSumArgs {
  const char* x;
  const char* dy;      // dy_deviation only
  const double* mean;  // squared_deviation, dy_deviation
  double* s0;
  double* s1;          // dy_deviation only
  int64_t rows, cols, inner, row_stride;
};
using NormSumLoop = void (*)(const NormSumArgs& a);
enum class NormApply : int { normalize, training_grad, inference_grad };
constexpr int kNumNormApplies = 3;
struct NormApplyArgs {
  const char* x;   // not read by inference_grad
  const char* dy;  // not read by normalize
  char* out;
  const char* p;
  int64_t c, inner, begin, end;
};
using NormApplyLoop = void (*)(const NormApplyArgs& a);

const char* binary_op_name(BinaryOp op);
const char* unary_op_name(UnaryOp op);
const char* act_op_name(ActOp op);

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
  NormSumLoop norm_sum[kNumNormSums][2];    // Note [Batch norm] in norm.h: [kind][0: float32, 1: float64]
  NormApplyLoop norm_apply[kNumNormApplies][2];
  InnerLoop act[kNumActOps][2];             // Note [Activation registry]: [op][0: float32, 1: float64]
  InnerLoop act_grad[kNumActOps][2];
  InnerLoop act_grad2[kNumActOps][2];       // (dx, dy, x, y, h): dx = dy * f''(x)
  DropoutLoop dropout[2];                   // Note [Dropout masks] in nn.cpp: [0: float32, 1: float64]
};

const KernelTable& kernels();

void fill_kernel_table_generic(KernelTable* t);
void fill_kernel_table_avx2(KernelTable* t);
void fill_kernel_table_avx512(KernelTable* t);

}  // namespace pynn
