#include "convert.h"

#include <cstring>

namespace pynn {

const Tensor* as_tensor(py::handle h) {
  static py::handle tensor_type = py::type::of<Tensor>();
  if (!PyObject_TypeCheck(h.ptr(), reinterpret_cast<PyTypeObject*>(tensor_type.ptr()))) return nullptr;
  return &h.cast<const Tensor&>();
}

py::object index_int(py::handle h, long long* v, int* overflow) {
  py::object idx = py::reinterpret_steal<py::object>(PyNumber_Index(h.ptr()));
  *overflow = 0;
  if (idx) *v = PyLong_AsLongLongAndOverflow(idx.ptr(), overflow);
  return idx;
}

namespace {

// One dimension or axis from an object that has __index__ (`what` names the
// argument): values past int64 are errors of the argument's kind, not
// pybind11's cast failure. Null when __index__ raised (the error is set).
bool dim_from_index(PyObject* o, const char* what, int64_t* out) {
  long long v;
  int overflow;
  py::object idx = index_int(o, &v, &overflow);
  if (!idx) return false;
  if (overflow) {
    std::string repr = py::str(idx);
    // NumPy: OverflowError "Python int too large to convert to C long" for an axis.
    if (std::strstr(what, "axis")) {
      PyErr_Format(PyExc_OverflowError, "%s %s is too large (it does not fit in int64)", what, repr.c_str());
      throw py::error_already_set();
    }
    if (std::strstr(what, "axes"))
      throw AxisError(detail::cat(what, " ", repr, " is out of bounds (it does not fit in int64)"));
    throw ValueError(detail::cat(what, ": maximum allowed dimension exceeded (", repr, ")"));
  }
  *out = v;
  return true;
}

}  // namespace

Dims dims_from_py(py::handle h, const char* what) {
  Dims d;
  PyObject* o = h.ptr();
  int64_t v;
  // A bool is not a shape nor an axis (NumPy: TypeError), except for
  // expand_dims, which NumPy lets take one.
  PYNN_CHECK_KIND(TypeError, !PyBool_Check(o) || std::strstr(what, "expand_dims"), what,
                  " must be an int or a sequence of ints, got ", o == Py_True ? "True" : "False");
  if (PyLong_Check(o) || PyIndex_Check(o)) {
    if (dim_from_index(o, what, &v)) {
      d.push_back(v);
      return d;
    }
    // NumPy arrays and tensors of more than one element have an __index__
    // that raises; as sequences of ints they are shapes (as in NumPy).
    if (!PySequence_Check(o)) throw py::error_already_set();
    PyErr_Clear();
  }
  PYNN_CHECK_KIND(TypeError, PySequence_Check(o), what, " must be an int or a sequence of ints, not ",
                  Py_TYPE(o)->tp_name);
  // By index, not by iterator: a sequence that never ends (an object with
  // only __getitem__) cannot loop forever, and errors of __len__ and
  // __getitem__ propagate as they are.
  Py_ssize_t n = PySequence_Size(o);
  if (n < 0) throw py::error_already_set();
  PYNN_CHECK(n <= kMaxDims, what, ": pynn supports at most ", kMaxDims, " dimensions, got a sequence of ", n);
  for (Py_ssize_t i = 0; i < n; ++i) {
    py::object item = py::reinterpret_steal<py::object>(PySequence_GetItem(o, i));
    if (!item) throw py::error_already_set();
    PYNN_CHECK_KIND(TypeError, PyIndex_Check(item.ptr()) && !PyBool_Check(item.ptr()), what,
                    " must contain only ints, got ", Py_TYPE(item.ptr())->tp_name);
    if (!dim_from_index(item.ptr(), what, &v)) {
      if (!PyErr_ExceptionMatches(PyExc_TypeError)) throw py::error_already_set();
      py::error_already_set e;  // takes the error
      throw TypeError(detail::cat(what, " must contain only ints: ", e.what()));
    }
    d.push_back(v);
  }
  return d;
}

std::vector<int64_t> axes_from_py(py::handle h, bool* all, const char* what) {
  *all = h.is_none();
  std::vector<int64_t> axes;
  if (*all) return axes;
  Dims d = dims_from_py(h, what);
  axes.assign(d.begin(), d.end());
  return axes;
}

Tensor assign_value(const char* op, py::handle value, DType d) {
  py::object like = py::cast(tensor_empty(Dims{}, d));
  if (is_integral(d) && PyFloat_Check(value.ptr())) {
    // int(value): ValueError for NaN, OverflowError for infinities; then it must fit d.
    py::object i = py::reinterpret_steal<py::object>(PyNumber_Long(value.ptr()));
    if (!i) {  // Python's message ("cannot convert float NaN to integer"), with the op named
      py::error_already_set e;
      std::string msg = py::str(e.value());
      PyErr_Format(e.type().ptr(), "%s: %s", op, msg.c_str());
      throw py::error_already_set();
    }
    return resolve_operands(op, {i, like})[0];
  }
  return resolve_operands(op, {value, like})[0];
}

DType dtype_from_code(int code) {
  PYNN_CHECK_KIND(TypeError, code >= 0 && code < kNumDTypes, "invalid dtype code ", code);
  return static_cast<DType>(code);
}

namespace {

enum class Weak { None, Bool, Int, Float };

Weak weak_kind(py::handle h) {
  PyObject* o = h.ptr();
  if (PyBool_Check(o)) return Weak::Bool;
  if (PyLong_CheckExact(o)) return Weak::Int;
  if (PyFloat_CheckExact(o)) return Weak::Float;
  return Weak::None;
}

template <class T>
Tensor scalar_of(T v, DType d) {
  Tensor t = tensor_empty(Dims{}, d);
  dispatch_dtype(d, [&](auto tag) {
    using U = typename decltype(tag)::type;
    *reinterpret_cast<U*>(t.data()) = static_cast<U>(v);
  });
  return t;
}

[[noreturn]] void weak_int_overflow(const char* op, py::handle h, DType d) {
  std::string repr = py::str(h);
  PyErr_Format(PyExc_OverflowError, "%s: Python integer %s out of bounds for %s", op, repr.c_str(), dtype_name(d));
  throw py::error_already_set();
}

// A weak scalar given the promoted dtype of the strong operands (or none).
// *side is set to -1 / +1 when an int is below / above the range of an
// integer dtype (policy Clamp then stores the dtype's min / max).
Tensor weak_scalar(const char* op, py::handle h, Weak kind, bool have_strong, DType strong, WeakIntPolicy policy,
                   int* side) {
  *side = 0;
  switch (kind) {
    case Weak::Bool:
      return scalar_of<bool>(h.ptr() == Py_True, DType::Bool);
    case Weak::Float: {
      double v = PyFloat_AS_DOUBLE(h.ptr());
      return scalar_of(v, have_strong && is_float(strong) ? strong : DType::Float64);
    }
    case Weak::Int: {
      DType d = !have_strong || strong == DType::Bool ? DType::Int64 : strong;
      int overflow = 0;
      long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
      if (is_float(d)) return scalar_of(overflow ? PyLong_AsDouble(h.ptr()) : static_cast<double>(v), d);
      int64_t lo = d == DType::UInt8 ? 0 : d == DType::Int32 ? INT32_MIN : INT64_MIN;
      int64_t hi = d == DType::UInt8 ? 255 : d == DType::Int32 ? INT32_MAX : INT64_MAX;
      if (!overflow && v >= lo && v <= hi) return scalar_of(static_cast<int64_t>(v), d);
      *side = overflow ? overflow : v < lo ? -1 : 1;
      if (policy == WeakIntPolicy::Clamp) return scalar_of(*side < 0 ? lo : hi, d);
      if (policy == WeakIntPolicy::Wrap) {
        // NumPy's np.where casts such an int through C (u)int64: the low bits
        // of any int in [-2**63, 2**64) are kept; past that, OverflowError.
        uint64_t bits;
        if (!overflow) {
          bits = static_cast<uint64_t>(v);
        } else {
          bits = PyLong_AsUnsignedLongLong(h.ptr());
          if (bits == static_cast<uint64_t>(-1) && PyErr_Occurred()) {
            PyErr_Clear();
            weak_int_overflow(op, h, d);
          }
        }
        Tensor t = tensor_empty(Dims{}, d);
        dispatch_dtype(d, [&](auto tag) {
          using U = typename decltype(tag)::type;
          *reinterpret_cast<U*>(t.data()) = static_cast<U>(bits);
        });
        return t;
      }
      weak_int_overflow(op, h, d);
    }
    default:
      break;
  }
  throw InternalError("weak_scalar: not a scalar");
}

}  // namespace

std::vector<Tensor> resolve_operands(const char* op, std::initializer_list<py::handle> values, WeakIntPolicy policy,
                                     std::vector<int>* out_of_range) {
  std::vector<Tensor> out(values.size());
  std::vector<Weak> kinds(values.size());
  if (out_of_range) out_of_range->assign(values.size(), 0);
  bool have_strong = false;
  DType strong = DType::Bool;
  size_t i = 0;
  for (py::handle h : values) {
    kinds[i] = weak_kind(h);
    if (kinds[i] == Weak::None) {
      const Tensor* t = as_tensor(h);
      out[i] = t ? *t : tensor_from_any(h, op);
      strong = have_strong ? promote(strong, out[i].dtype) : out[i].dtype;
      have_strong = true;
    }
    ++i;
  }
  // A Python float beside integer (or no) strong operands makes the common
  // dtype float64, which the Python ints then take too (NumPy's result_type
  // over all operands: clip(uint8, -inf, -1) is float64, -1 fits).
  bool weak_float = false;
  for (Weak k : kinds) weak_float = weak_float || k == Weak::Float;
  if (weak_float && (!have_strong || !is_float(strong))) {
    have_strong = true;
    strong = DType::Float64;
  }
  i = 0;
  for (py::handle h : values) {
    int side = 0;
    if (kinds[i] != Weak::None) out[i] = weak_scalar(op, h, kinds[i], have_strong, strong, policy, &side);
    if (out_of_range) (*out_of_range)[i] = side;
    ++i;
  }
  return out;
}

namespace {

void release_pyobject(void* ctx, void*, int64_t) {
  PyGILState_STATE s = PyGILState_Ensure();
  Py_DECREF(static_cast<PyObject*>(ctx));
  PyGILState_Release(s);
}

DType dtype_from_numpy(const char* op, const py::dtype& dt) {
  char kind = dt.kind();
  int64_t size = dt.itemsize();
  bool native = dt.byteorder() != '>' ;
  if (native) {
    if (kind == 'b' && size == 1) return DType::Bool;
    if (kind == 'u' && size == 1) return DType::UInt8;
    if (kind == 'i' && size == 4) return DType::Int32;
    if (kind == 'i' && size == 8) return DType::Int64;
    if (kind == 'f' && size == 4) return DType::Float32;
    if (kind == 'f' && size == 8) return DType::Float64;
  }
  std::string name = py::str(dt);
  throw TypeError(detail::cat(op, ": unsupported dtype ", name,
                              ": pynn supports bool, uint8, int32, int64, float32 and float64"));
}

}  // namespace

Tensor tensor_from_numpy(py::handle h, const char* op) {
  PYNN_CHECK_KIND(TypeError, py::isinstance<py::array>(h), op, ": expected a numpy.ndarray, got ",
                  Py_TYPE(h.ptr())->tp_name);
  auto arr = py::reinterpret_borrow<py::array>(h);
  Tensor t;
  t.dtype = dtype_from_numpy(op, arr.dtype());
  t.writeable = arr.writeable();
  PYNN_CHECK(arr.ndim() <= kMaxDims, op, ": pynn supports at most ", kMaxDims, " dimensions, got ", arr.ndim());
  int64_t isz = itemsize(t.dtype);
  auto addr = reinterpret_cast<uintptr_t>(arr.data());
  bool aligned = addr % isz == 0;
  for (py::ssize_t i = 0; i < arr.ndim(); ++i) {
    t.shape.push_back(arr.shape(i));
    t.strides.push_back(arr.strides(i));
    if (arr.strides(i) % isz != 0) aligned = false;
  }
  PYNN_CHECK(aligned, op, ": the array's data is not aligned to its ", isz,
             "-byte items; pynn shares only aligned memory, copy it with pynn.tensor(a)");
  Py_INCREF(h.ptr());
  t.storage = storage_wrap(const_cast<void*>(arr.data()), arr.nbytes(), &release_pyobject, h.ptr());
  return t;
}

Tensor tensor_from_any(py::handle obj, const char* op) {
  if (const Tensor* t = as_tensor(obj)) return *t;
  if (py::isinstance<py::array>(obj)) return tensor_from_numpy(obj, op);
  static py::object asarray = py::module_::import("numpy").attr("asarray");
  py::object arr;
  try {
    arr = asarray(obj);
  } catch (py::error_already_set& e) {  // e.g. a ragged list: NumPy's message, with the op named
    std::string msg = py::str(e.value());
    if (e.matches(PyExc_ValueError)) throw ValueError(detail::cat(op, ": ", msg));
    if (e.matches(PyExc_TypeError)) throw TypeError(detail::cat(op, ": ", msg));
    throw;
  }
  return tensor_from_numpy(arr, op);
}

std::optional<Tensor> optional_tensor(const char* op, const char* what, py::handle h) {
  if (h.is_none()) return std::nullopt;
  const Tensor* t = as_tensor(h);
  PYNN_CHECK_KIND(TypeError, t, op, ": ", what, " must be a pynn Tensor or None, got ", Py_TYPE(h.ptr())->tp_name);
  return *t;
}

}  // namespace pynn
