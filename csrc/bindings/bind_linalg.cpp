// bind_linalg.cpp: matmul, dot, tensordot.
#include "bind.h"
#include "kernels/gemm/gemm.h"
#include "kernels/linalg.h"
#include "plan/plan.h"

namespace pynn {

void bind_linalg(py::module_& m) {
  m.def("matmul", [](py::handle a, py::handle b) {
    std::vector<Tensor> ab = resolve_operands("matmul", {a, b});
    py::gil_scoped_release nogil;
    return plan_call("matmul", [=] { return linalg_matmul(ab[0], ab[1]); });
  }, py::arg("a"), py::arg("b"));

  m.def("dot", [](py::handle a, py::handle b) {
    std::vector<Tensor> ab = resolve_operands("dot", {a, b});
    py::gil_scoped_release nogil;
    return plan_call("dot", [=] { return linalg_dot(ab[0], ab[1]); });
  }, py::arg("a"), py::arg("b"));

  m.def("tensordot", [](py::handle a, py::handle b, py::handle axes) {
    std::vector<Tensor> ab = resolve_operands("tensordot", {a, b});
    std::vector<int64_t> xa, xb;
    if (PyIndex_Check(axes.ptr()) && !PySequence_Check(axes.ptr())) {
      int64_t n = dims_from_py(axes, "tensordot: axes")[0];
      PYNN_CHECK(n >= 0 && n <= ab[0].ndim() && n <= ab[1].ndim(), "tensordot: axes=", n,
                 " is out of range for shapes ", ab[0].shape, " and ", ab[1].shape);
      for (int64_t i = 0; i < n; ++i) {
        xa.push_back(ab[0].ndim() - n + i);
        xb.push_back(i);
      }
    } else {
      PYNN_CHECK_KIND(TypeError, PySequence_Check(axes.ptr()) && py::len(axes) == 2,
                      "tensordot: axes must be an int or a pair of sequences of ints");
      Dims da = dims_from_py(py::reinterpret_borrow<py::sequence>(axes)[0], "tensordot: axes");
      Dims db = dims_from_py(py::reinterpret_borrow<py::sequence>(axes)[1], "tensordot: axes");
      xa.assign(da.begin(), da.end());
      xb.assign(db.begin(), db.end());
    }
    py::gil_scoped_release nogil;
    return plan_call("tensordot", [=] { return linalg_tensordot(ab[0], ab[1], xa, xb); });
  }, py::arg("a"), py::arg("b"), py::arg("axes") = 2);

  m.def("_gemm_info", [](const std::string& dtype) {
    GemmInfo g = dtype == "float64" ? gemm_info_f64() : gemm_info_f32();
    py::dict d;
    d["isa"] = g.isa;
    d["mr"] = g.mr;
    d["nr"] = g.nr;
    d["mc"] = g.mc;
    d["kc"] = g.kc;
    d["nc"] = g.nc;
    return d;
  }, py::arg("dtype") = "float32", "The GEMM micro-kernel and block sizes in use (for tests and benchmarks).");
}

}  // namespace pynn
