// bind_pool.cpp: 2-D max and average pooling (Note [Pooling] in kernels/pool.h).
#include <tuple>

#include "bind.h"
#include "kernels/pool.h"
#include "plan/plan.h"

namespace pynn {
namespace {

// The geometry from a sequence of 8 ints: (ph, pw, sh, sw, top, bottom, left, right).
PoolGeometry geometry_from_py(py::handle h, const char* op) {
  const Dims d = dims_from_py(h, op);
  PYNN_CHECK(d.size() == 8, op, ": geometry must be 8 ints (pool h, w, strides h, w, pads top, bottom, left, "
             "right), got ", d.size());
  return PoolGeometry{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]};
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("_max_pool2d", [](const Tensor& x, py::handle geometry) {
    const PoolGeometry g = geometry_from_py(geometry, "max_pool: geometry");
    Tensor y, argmax;
    {
      py::gil_scoped_release nogil;
      std::tie(y, argmax) = plan_call("max_pool2d", [=] {
        Tensor y_, a_;
        pool_max2d(x, g, &y_, &a_);
        return std::make_tuple(y_, a_);
      });
    }
    return py::make_tuple(y, argmax);
  }, py::arg("x"), py::arg("geometry"));

  m.def("_max_pool2d_backward", [](py::handle dy, const Tensor& argmax, py::handle x_shape, int dtype,
                                   py::handle geometry) {
    const Tensor dyt = resolve_operands("max_pool backward", {dy})[0];
    const Dims shape = dims_from_py(x_shape, "max_pool backward: x_shape");
    const DType dt = dtype_from_code(dtype);
    const PoolGeometry g = geometry_from_py(geometry, "max_pool backward: geometry");
    py::gil_scoped_release nogil;
    return plan_call("max_pool2d_backward", [=] { return pool_max2d_backward(dyt, argmax, shape, dt, g); });
  }, py::arg("dy"), py::arg("argmax"), py::arg("x_shape"), py::arg("dtype"), py::arg("geometry"));

  m.def("_max_pool2d_gather", [](py::handle h, const Tensor& argmax) {
    const Tensor ht = resolve_operands("max_pool gather", {h})[0];
    py::gil_scoped_release nogil;
    return plan_call("max_pool2d_gather", [=] { return pool_max2d_gather(ht, argmax); });
  }, py::arg("h"), py::arg("argmax"));

  m.def("_avg_pool2d", [](const Tensor& x, py::handle geometry) {
    const PoolGeometry g = geometry_from_py(geometry, "average_pool: geometry");
    py::gil_scoped_release nogil;
    return plan_call("avg_pool2d", [=] { return pool_avg2d(x, g); });
  }, py::arg("x"), py::arg("geometry"));

  m.def("_avg_pool2d_backward", [](py::handle dy, py::handle x_shape, int dtype, py::handle geometry) {
    const Tensor dyt = resolve_operands("average_pool backward", {dy})[0];
    const Dims shape = dims_from_py(x_shape, "average_pool backward: x_shape");
    const DType dt = dtype_from_code(dtype);
    const PoolGeometry g = geometry_from_py(geometry, "average_pool backward: geometry");
    py::gil_scoped_release nogil;
    return plan_call("avg_pool2d_backward", [=] { return pool_avg2d_backward(dyt, shape, dt, g); });
  }, py::arg("dy"), py::arg("x_shape"), py::arg("dtype"), py::arg("geometry"));
}

}  // namespace pynn
