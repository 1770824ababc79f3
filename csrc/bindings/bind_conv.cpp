// bind_conv.cpp: the convolution kernels (Note [Convolution] in kernels/conv.h).
#include <tuple>

#include <pybind11/stl.h>

#include "bind.h"
#include "kernels/conv.h"
#include "plan/plan.h"

namespace pynn {
namespace {

// The geometry from Python: (sh, sw, dh, dw, pt, pl, oh, ow).
ConvGeom geom_of(const std::vector<int64_t>& v) {
  PYNN_CHECK(v.size() == 8, "conv2d: geometry must be 8 ints (strides, dilations, pads before, output size), got ",
             v.size());
  ConvGeom g;
  g.sh = v[0], g.sw = v[1], g.dh = v[2], g.dw = v[3], g.pt = v[4], g.pl = v[5], g.oh = v[6], g.ow = v[7];
  return g;
}

Dims dims_of(const std::vector<int64_t>& v) {
  PYNN_CHECK(v.size() <= static_cast<size_t>(kMaxDims), "conv2d: too many dimensions: ", v.size());
  Dims d;
  for (int64_t x : v) {
    PYNN_CHECK(x >= 0, "conv2d: negative dimension in shape of ", v.size(), " dims");
    d.push_back(x);
  }
  return d;
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("_conv2d", [](const Tensor& x, const Tensor& w, py::handle b, const std::vector<int64_t>& geom,
                      Activation act) {
    const auto bp = optional_tensor("conv2d", "bias", b);
    const ConvGeom g = geom_of(geom);
    py::gil_scoped_release nogil;
    return plan_call("conv2d", [=] { return nn_conv2d(x, w, ptr(bp), g, act); });
  }, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("geom"), py::arg("activation"));

  m.def("_conv2d_backward", [](const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y,
                               const std::vector<int64_t>& geom, Activation act, bool need_dx, bool need_dw,
                               bool need_db) {
    const ConvGeom g = geom_of(geom);
    Tensor dx, dw, db;
    {
      py::gil_scoped_release nogil;
      std::tie(dx, dw, db) = plan_call("conv2d_backward", [=] {
        Tensor gx, gw, gb;
        nn_conv2d_backward(dy, x, w, y, g, act, need_dx, need_dw, need_db, &gx, &gw, &gb);
        return std::make_tuple(gx, gw, gb);
      });
    }
    py::object none = py::none();
    return py::make_tuple(need_dx ? py::cast(dx) : none, need_dw ? py::cast(dw) : none,
                          need_db ? py::cast(db) : none);
  });

  m.def("_conv2d_input_grad", [](const Tensor& dz, const Tensor& w, const std::vector<int64_t>& geom,
                                 const std::vector<int64_t>& x_shape) {
    const ConvGeom g = geom_of(geom);
    const Dims xs = dims_of(x_shape);
    py::gil_scoped_release nogil;
    return plan_call("conv2d_input_grad", [=] { return nn_conv2d_input_grad(dz, w, g, xs); });
  });

  m.def("_conv2d_kernel_grad", [](const Tensor& x, const Tensor& dz, const std::vector<int64_t>& geom,
                                  const std::vector<int64_t>& w_shape) {
    const ConvGeom g = geom_of(geom);
    const Dims ws = dims_of(w_shape);
    py::gil_scoped_release nogil;
    return plan_call("conv2d_kernel_grad", [=] { return nn_conv2d_kernel_grad(x, dz, g, ws); });
  });
}

}  // namespace pynn
