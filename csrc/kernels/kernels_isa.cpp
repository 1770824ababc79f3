// kernels_isa.cpp: fills one kernel table (Note [Kernel table]).
// CMake compiles this file three times with PYNN_ISA set to generic, avx2 and
// avx512 and the matching -m flags; see CMakeLists.txt.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <utility>
#include <type_traits>

#include "kernel_table.h"
#include "vmath.h"  // static inline functions only: internal linkage in each ISA's copy

#ifndef PYNN_ISA
#error "PYNN_ISA must be defined (generic, avx2 or avx512)"
#endif
#define PYNN_CAT2(a, b) a##b
#define PYNN_CAT(a, b) PYNN_CAT2(a, b)

namespace pynn {
namespace {

#include "loops.h"
#include "loops_norm.h"

using Types = std::tuple<bool, uint8_t, int32_t, int64_t, float, double>;

template <class F, size_t... I>
void for_each_type_impl(F&& f, std::index_sequence<I...>) {
  (f(TypeTag<std::tuple_element_t<I, Types>>{}), ...);
}
template <class F>
void for_each_type(F&& f) { for_each_type_impl(f, std::make_index_sequence<kNumDTypes>{}); }

template <class T> constexpr int idx() { return static_cast<int>(dtype_of<T>()); }

template <class Op>
void fill_binary(InnerLoop* row) {
  // A comparison's functor returns bool for int32 operands.
  constexpr bool kCompare = std::is_same_v<decltype(Op::f(int32_t{}, int32_t{})), bool>;
  for_each_type([&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (Op::template ok<T>) row[idx<T>()] = &binary_loop<Op, T, std::conditional_t<kCompare, bool, T>>;
  });
}

template <class Op>
void fill_unary(InnerLoop* row) {
  for_each_type([&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (Op::template ok<T>) row[idx<T>()] = &unary_loop<Op, T>;
  });
}

// The batch-norm loops of one dtype (k: 0 float32, 1 float64).
template <class T>
void fill_norm(KernelTable* t, int k) {
  t->norm_sum[static_cast<int>(NormSum::x)][k] = &norm_sum_loop<T, norm_sum_x>;
  t->norm_sum[static_cast<int>(NormSum::squared_deviation)][k] = &norm_sum_loop<T, norm_sum_squared_deviation>;
  t->norm_sum[static_cast<int>(NormSum::dy_deviation)][k] = &norm_sum_loop<T, norm_sum_dy_deviation>;
  t->norm_apply[static_cast<int>(NormApply::normalize)][k] = &norm_apply_loop<T, norm_normalize>;
  t->norm_apply[static_cast<int>(NormApply::training_grad)][k] = &norm_apply_loop<T, norm_training_grad>;
  t->norm_apply[static_cast<int>(NormApply::inference_grad)][k] = &norm_apply_loop<T, norm_inference_grad>;
}

void fill(KernelTable* t) {
  *t = KernelTable{};
#define PYNN_FILL_BINARY(name) fill_binary<op_##name>(t->binary[static_cast<int>(BinaryOp::name)]);
  PYNN_BINARY_OPS(PYNN_FILL_BINARY)
#undef PYNN_FILL_BINARY
#define PYNN_FILL_UNARY(name) fill_unary<op_##name>(t->unary[static_cast<int>(UnaryOp::name)]);
  PYNN_UNARY_OPS(PYNN_FILL_UNARY)
#undef PYNN_FILL_UNARY

  for_each_type([&](auto tag) {
    using T = typename decltype(tag)::type;
    constexpr int i = idx<T>();
    for_each_type([&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      t->cast[i][idx<To>()] = &cast_loop<T, To>;
    });
    t->where[i] = &where_loop<T>;
    t->clip[i] = &clip_loop<T>;
    t->reduce_sum[i] = &reduce_sum_loop<T>;
    t->reduce_sum_f64[i] = &reduce_sum_loop<T, double>;
    t->reduce_max[i] = &reduce_extreme_loop<T, true>;
    t->reduce_min[i] = &reduce_extreme_loop<T, false>;
    t->reduce_argmax[i] = &reduce_arg_loop<T, true>;
    t->reduce_argmin[i] = &reduce_arg_loop<T, false>;
  });
#define PYNN_FILL_OPTIM(name, slots, scalars)                                 \
  t->optim[static_cast<int>(OptimRule::name)][0] = &optim_##name##_loop<float>; \
  t->optim[static_cast<int>(OptimRule::name)][1] = &optim_##name##_loop<double>;
  PYNN_OPTIM_RULES(PYNN_FILL_OPTIM)
#undef PYNN_FILL_OPTIM
#define PYNN_FILL_ROWS(kind)                                                             \
  t->rows[static_cast<int>(RowsKernel::kind)][0] = &rows_loop<float, RowsKernel::kind>; \
  t->rows[static_cast<int>(RowsKernel::kind)][1] = &rows_loop<double, RowsKernel::kind>;
  PYNN_FILL_ROWS(softmax)
  PYNN_FILL_ROWS(log_softmax)
  PYNN_FILL_ROWS(xent_labels)
  PYNN_FILL_ROWS(xent_probs)
#undef PYNN_FILL_ROWS
  t->dropout[0] = &dropout_loop<float>;
  t->dropout[1] = &dropout_loop<double>;
#define PYNN_FILL_ACT(name)                                                              \
  t->act[static_cast<int>(ActOp::name)][0] = &act_loop<act_##name, float>;               \
  t->act[static_cast<int>(ActOp::name)][1] = &act_loop<act_##name, double>;              \
  t->act_grad[static_cast<int>(ActOp::name)][0] = &act_grad_loop<act_##name, float, 1>;  \
  t->act_grad[static_cast<int>(ActOp::name)][1] = &act_grad_loop<act_##name, double, 1>; \
  t->act_grad2[static_cast<int>(ActOp::name)][0] = &act_grad_loop<act_##name, float, 2>; \
  t->act_grad2[static_cast<int>(ActOp::name)][1] = &act_grad_loop<act_##name, double, 2>;
  PYNN_ACTIVATIONS(PYNN_FILL_ACT)
#undef PYNN_FILL_ACT
  fill_norm<float>(t, 0);
  fill_norm<double>(t, 1);
}

}  // namespace

void PYNN_CAT(fill_kernel_table_, PYNN_ISA)(KernelTable* t) { fill(t); }

}  // namespace pynn
