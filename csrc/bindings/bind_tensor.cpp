// bind_tensor.cpp: the Tensor class, its buffer, views and indexing.
#include <pybind11/stl.h>

#include "bind.h"
#include "kernels/elementwise.h"
#include "plan/plan.h"

namespace pynn {
namespace {

const char* buffer_format(DType d) {
  switch (d) {
    case DType::Bool: return "?";
    case DType::UInt8: return "B";
    case DType::Int32: return "i";
    case DType::Int64: return "q";
    case DType::Float32: return "f";
    case DType::Float64: return "d";
  }
  return "B";
}

py::tuple dims_tuple(const Dims& d) {
  py::tuple t(d.n);
  for (int i = 0; i < d.n; ++i) t[i] = py::int_(d[i]);
  return t;
}

std::vector<IndexItem> parse_index(py::handle key) {
  std::vector<IndexItem> items;
  auto one = [&](py::handle k) {
    IndexItem it{};
    PyObject* o = k.ptr();
    if (o == Py_Ellipsis) {
      it.kind = IndexItem::Ellipsis;
    } else if (o == Py_None) {
      it.kind = IndexItem::NewAxis;
    } else if (PySlice_Check(o)) {
      Py_ssize_t start, stop, step;
      if (PySlice_Unpack(o, &start, &stop, &step) < 0) throw py::error_already_set();
      it.kind = IndexItem::Slice;
      it.start = start;
      it.stop = stop;
      it.step = step;
      it.has_start = it.has_stop = true;  // PySlice_Unpack already mapped None to the extremes
    } else if (!PyBool_Check(o) && PyIndex_Check(o)) {
      long long v;
      int overflow;
      py::object idx = index_int(o, &v, &overflow);
      if (!idx) throw py::error_already_set();
      it.kind = IndexItem::Int;
      it.start = v;
      if (overflow) {
        std::string repr = py::str(idx);
        throw IndexError(detail::cat("index ", repr, " is out of bounds (indices must fit in int64)"));
      }
    } else {
      throw IndexError(detail::cat(
          "only integers, slices (`:`), ellipsis (`...`) and None are valid indices for a pynn tensor, got ",
          Py_TYPE(o)->tp_name, " (advanced indexing is not supported)"));
    }
    items.push_back(it);
  };
  if (PyTuple_Check(key.ptr())) {
    for (py::handle k : py::reinterpret_borrow<py::tuple>(key)) one(k);
  } else {
    one(key);
  }
  return items;
}

std::vector<int64_t> int_list(py::handle h, const char* what) {
  Dims d = dims_from_py(h, what);
  return std::vector<int64_t>(d.begin(), d.end());
}

}  // namespace

void bind_tensor(py::module_& m) {
  py::class_<Tensor>(m, "Tensor", py::buffer_protocol(), py::dynamic_attr(),
                     "A strided n-dimensional array (storage + offset + shape + strides + dtype).")
      // Tensor(t): another handle on t's memory (a view of all of it). It lets
      // Python subclasses (pynn.Variable) wrap a freshly made tensor.
      .def(py::init([](const Tensor& t) { return t; }), py::arg("tensor"))
      .def_buffer([](const Tensor& t) {
        plan_host_read(t);  // Note [Captured steps]
        std::vector<py::ssize_t> shape(t.shape.begin(), t.shape.end()), strides(t.strides.begin(), t.strides.end());
        // A read-only tensor exports a read-only buffer (Note [Writeable flag]).
        return py::buffer_info(t.data(), t.elsize(), buffer_format(t.dtype), t.ndim(), shape, strides, !t.writeable);
      })
      .def_property(
          "writeable", [](const Tensor& t) { return t.writeable; },
          [](Tensor& t, bool w) {
            // As NumPy's flags.writeable: anyone may lock a tensor; unlocking read-only memory is refused.
            PYNN_CHECK(!w || t.writeable, "writeable: cannot make a read-only tensor writeable");
            t.writeable = w;
          },
          "Whether the tensor may be written (NumPy's flags.writeable). False for read-only NumPy memory and "
          "broadcast_to views; set it to False to protect a tensor (its later views inherit it).")
      .def_property_readonly("shape", [](const Tensor& t) { return dims_tuple(t.shape); })
      .def_property_readonly("strides", [](const Tensor& t) { return dims_tuple(t.strides); },
                             "Byte strides, as NumPy's.")
      .def_property_readonly("ndim", &Tensor::ndim)
      .def_property_readonly("size", &Tensor::numel)
      .def_property_readonly("itemsize", &Tensor::elsize)
      .def_property_readonly("nbytes", [](const Tensor& t) { return t.numel() * t.elsize(); })
      .def_property_readonly("_dtype_code", [](const Tensor& t) { return static_cast<int>(t.dtype); })
      .def_property_readonly("_data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.data()); })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("__len__",
           [](const Tensor& t) {
             PYNN_CHECK_KIND(TypeError, t.ndim() > 0, "len() of a 0-d tensor");
             return t.shape[0];
           })
      .def("__getitem__", [](const Tensor& t, py::handle key) { return tensor_index(t, parse_index(key)); })
      .def("__setitem__",
           [](const Tensor& t, py::handle key, py::handle value) {
             Tensor view = tensor_index(t, parse_index(key));
             // The value takes the tensor's dtype (NumPy's assignment casting);
             // a Python int must fit it.
             Tensor v = assign_value("setitem", value, t.dtype);
             // NumPy's assignment drops leading size-1 axes of the value beyond the
             // destination's rank (a[0] = b[None] works); other extra axes stay an error.
             while (v.ndim() > view.ndim() && v.shape[0] == 1) v = tensor_index(v, {IndexItem{IndexItem::Int, 0}});
             py::gil_scoped_release nogil;
             plan_call("setitem", [=] { ew_copy("setitem", view, v); });
           })
      .def("_reshape",
           [](const Tensor& t, py::handle shape) {
             Dims d = dims_from_py(shape, "reshape: shape");
             py::gil_scoped_release nogil;
             return plan_call("reshape", [=] { return ew_reshape(t, d); });
           })
      .def("_transpose",
           [](const Tensor& t, py::handle axes) {
             if (axes.is_none()) return tensor_transpose(t, {});  // reversed
             // Given axes must name every axis: () is no permutation of a
             // 2-D tensor (NumPy: "axes don't match array").
             std::vector<int64_t> perm = int_list(axes, "transpose: axes");
             PYNN_CHECK(static_cast<int>(perm.size()) == t.ndim(), "transpose: axes don't match tensor: got ",
                        perm.size(), " axes for a tensor of dimension ", t.ndim());
             return tensor_transpose(t, perm);
           })
      .def("_expand_dims",
           [](const Tensor& t, py::handle axes) { return tensor_expand_dims(t, int_list(axes, "expand_dims: axis")); })
      .def("_squeeze",
           [](const Tensor& t, py::handle axes) {
             return tensor_squeeze(t, axes.is_none() ? std::vector<int64_t>{} : int_list(axes, "squeeze: axis"),
                                   axes.is_none());
           })
      .def("_broadcast_to",
           [](const Tensor& t, py::handle shape) {
             return tensor_broadcast_to("broadcast_to", t, dims_from_py(shape, "broadcast_to: shape"));
           })
      .def("_astype",
           [](const Tensor& t, int code) {
             DType d = dtype_from_code(code);
             py::gil_scoped_release nogil;
             return plan_call("astype", [=] { return ew_astype(t, d); });
           })
      .def("_contiguous", [](const Tensor& t) {
        py::gil_scoped_release nogil;
        return plan_call("contiguous", [=] { return ew_contiguous(t); });
      })
      .def("_shares_storage", [](const Tensor& a, const Tensor& b) { return a.storage == b.storage; });

  m.def("from_numpy", [](py::handle a) { return tensor_from_numpy(a, "from_numpy"); }, py::arg("array"),
        "A tensor sharing memory with a NumPy array (any strides); the array is kept alive.");
  m.def("_copy_from", [](py::handle obj) {
    // A copy of a tensor is a step of a captured plan; a copy of host data
    // (a list, a NumPy array) is a constant of it (Note [Captured steps]).
    const bool device = as_tensor(obj) != nullptr;
    Tensor src = tensor_from_any(obj);
    py::gil_scoped_release nogil;
    auto copy = [=] {
      Tensor r = tensor_empty(src.shape, src.dtype);
      ew_copy("tensor", r, src);
      return r;
    };
    return device ? plan_call("copy", copy) : copy();
  });
  m.def("_empty", [](py::handle shape, int code) {
    const Dims d = dims_from_py(shape, "empty: shape");
    const DType dt = dtype_from_code(code);
    return plan_call("empty", [=] { return tensor_empty(d, dt); });
  });
  // op: the public function (full, zeros, full_like...), named in errors.
  m.def("_full", [](py::handle shape, py::handle value, int code, const std::string& op) {
    std::string what = op + ": shape";
    Dims d = dims_from_py(shape, what.c_str());
    DType dt = dtype_from_code(code);
    // The fill value takes the dtype, as NumPy 2 (a Python int must fit it).
    Tensor v = assign_value(op.c_str(), value, dt);
    py::gil_scoped_release nogil;
    return plan_call("full", [=] {
      Tensor r = tensor_empty(d, dt);
      ew_copy(op.c_str(), r, v);
      return r;
    });
  }, py::arg("shape"), py::arg("value"), py::arg("code"), py::arg("op") = "full");
}

}  // namespace pynn
