// convert.h: Python objects <-> core types, for the bindings only.
#pragma once

#include <optional>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "core/tensor.h"

namespace pynn {
namespace py = pybind11;

// The tensor behind h, or null when h is not a pynn Tensor.
const Tensor* as_tensor(py::handle h);

// Dims from an int or a sequence of ints (a shape argument; a 1-D integer
// NumPy array or tensor is a sequence of ints). `what` names the op and the
// argument ("reshape: shape"); an argument naming an axis reports values past
// int64 as AxisError, a shape as ValueError.
Dims dims_from_py(py::handle h, const char* what);
// The int behind an object with __index__ (a Python int, a NumPy integer, a
// 0-d integer tensor), and its value in *v; *overflow is +1 or -1 when it does
// not fit in int64 (*v is then meaningless; the returned int is there for the
// message). Null when __index__ raised: the Python error is set.
py::object index_int(py::handle h, long long* v, int* overflow);
// Axes from None (-> all=true), an int or a sequence of ints.
std::vector<int64_t> axes_from_py(py::handle h, bool* all, const char* what = "axis");
// A value stored into a tensor of dtype d (setitem, full): a Python scalar
// takes d and must fit it; a Python float into an integer dtype goes through
// int(value) as in NumPy (ValueError for NaN, OverflowError for inf or out of
// range), never a silent garbage value.
Tensor assign_value(const char* op, py::handle value, DType d);

DType dtype_from_code(int code);

// Note [Weak scalars]
// Python bool/int/float operands are "weak" (NumPy 2, NEP 50): they take the
// dtype of the tensor operands (an int becomes int32 beside int32, and must fit
// it, else OverflowError like NumPy), except that a float beside integers gives
// float64 and an int beside bools gives int64. Operands that are neither
// tensors nor plain Python scalars (NumPy arrays and scalars, lists) are
// converted with their own dtype, as NumPy treats them: strong.
// resolve_operands turns every handle into a tensor following these rules.
// What a weak int outside its dtype's range does: Raise (OverflowError, as
// NumPy's ufuncs), Wrap (keeps the low bits of an int in [-2**63, 2**64), as
// NumPy's where; OverflowError past that) or Clamp (stores the dtype's min or
// max and reports the side, -1 or +1, in out_of_range: the caller decides,
// as comparisons and clip do).
enum class WeakIntPolicy { Raise, Wrap, Clamp };
std::vector<Tensor> resolve_operands(const char* op, std::initializer_list<py::handle> values,
                                     WeakIntPolicy policy = WeakIntPolicy::Raise,
                                     std::vector<int>* out_of_range = nullptr);

// A NumPy array as a tensor that shares its memory and keeps it alive (and
// its WRITEABLE flag, Note [Writeable flag]). `op` names the caller in errors.
Tensor tensor_from_numpy(py::handle array, const char* op = "from_numpy");
// Any array-like (tensor, NumPy array, list, scalar) as a tensor; NumPy-like
// conversion for lists and scalars (converted through numpy.asarray).
Tensor tensor_from_any(py::handle obj, const char* op = "tensor");

// An optional argument: None or a pynn Tensor, held by value (a recorded step
// keeps it, Note [Captured steps]); anything else is a TypeError naming op and what.
std::optional<Tensor> optional_tensor(const char* op, const char* what, py::handle h);
inline const Tensor* ptr(const std::optional<Tensor>& t) { return t ? &*t : nullptr; }

}  // namespace pynn
