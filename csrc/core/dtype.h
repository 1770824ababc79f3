// dtype.h: the element types and the one dtype dispatch.
//
// Note [Type promotion]
// promote() is NumPy 2's result_type restricted to pynn's six dtypes. Python
// scalars are "weak" (NEP 50) and are resolved by the bindings before an op
// reaches the core (see bindings/convert.h). Where NumPy would answer with a
// dtype pynn lacks (float16, int8, uint64) the ops choose the nearest wider
// dtype pynn has; README.md lists those cases.
#pragma once

#include <cstdint>

#include "check.h"

namespace pynn {

enum class DType : int8_t { Bool = 0, UInt8 = 1, Int32 = 2, Int64 = 3, Float32 = 4, Float64 = 5 };
constexpr int kNumDTypes = 6;

inline int64_t itemsize(DType d) {
  static constexpr int64_t sizes[kNumDTypes] = {1, 1, 4, 8, 4, 8};
  return sizes[static_cast<int>(d)];
}

inline const char* dtype_name(DType d) {
  static constexpr const char* names[kNumDTypes] = {"bool", "uint8", "int32", "int64", "float32", "float64"};
  return names[static_cast<int>(d)];
}

inline bool is_float(DType d) { return d == DType::Float32 || d == DType::Float64; }
inline bool is_signed_int(DType d) { return d == DType::Int32 || d == DType::Int64; }
inline bool is_integral(DType d) { return !is_float(d) && d != DType::Bool; }

// NumPy's result_type for two pynn dtypes.
inline DType promote(DType a, DType b) {
  using D = DType;
  constexpr D B = D::Bool, U = D::UInt8, I = D::Int32, L = D::Int64, F = D::Float32, G = D::Float64;
  static constexpr D table[kNumDTypes][kNumDTypes] = {
      /* bool    */ {B, U, I, L, F, G},
      /* uint8   */ {U, U, I, L, F, G},
      /* int32   */ {I, I, I, L, G, G},
      /* int64   */ {L, L, L, L, G, G},
      /* float32 */ {F, F, G, G, F, G},
      /* float64 */ {G, G, G, G, G, G},
  };
  return table[static_cast<int>(a)][static_cast<int>(b)];
}

// NumPy's can_cast(from, to, casting="same_kind") for pynn dtypes: a cast is
// allowed when it does not go down the kind order bool < unsigned < signed <
// float (so int64 -> float32 and float64 -> float32 are allowed, int32 -> uint8
// and float32 -> int64 are not).
inline bool can_cast_same_kind(DType from, DType to) {
  auto kind = [](DType d) { return d == DType::Bool ? 0 : is_float(d) ? 3 : d == DType::UInt8 ? 1 : 2; };
  return kind(from) <= kind(to);
}

template <class T> struct TypeTag { using type = T; };

// The one dtype dispatch: calls f(TypeTag<T>{}) with the C++ type of d.
template <class F>
decltype(auto) dispatch_dtype(DType d, F&& f) {
  switch (d) {
    case DType::Bool: return f(TypeTag<bool>{});
    case DType::UInt8: return f(TypeTag<uint8_t>{});
    case DType::Int32: return f(TypeTag<int32_t>{});
    case DType::Int64: return f(TypeTag<int64_t>{});
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
  }
  throw InternalError("dispatch_dtype: bad dtype code");
}

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }
template <> constexpr DType dtype_of<int32_t>() { return DType::Int32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }

}  // namespace pynn
