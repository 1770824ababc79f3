// bind_norm.cpp: batch normalization as one op (Note [Batch norm] in kernels/norm.h).
#include <tuple>

#include "bind.h"
#include "kernels/norm.h"
#include "plan/plan.h"

namespace pynn {
void bind_norm(py::module_& m) {
  m.def("_batch_norm", [](const Tensor& x, int64_t axis, py::handle gamma, py::handle beta, double eps, bool training,
                          py::handle moving_mean, py::handle moving_var) {
    const auto g = optional_tensor("batch_norm", "gamma", gamma), b = optional_tensor("batch_norm", "beta", beta);
    const auto mm = optional_tensor("batch_norm", "moving_mean", moving_mean), mv = optional_tensor("batch_norm", "moving_variance", moving_var);
    Tensor y, mean, var, saved;
    {
      py::gil_scoped_release nogil;
      std::tie(y, mean, var, saved) = plan_call("batch_norm", [=] {
        Tensor y_, mean_, var_, saved_;
        norm_batch(x, axis, ptr(g), ptr(b), eps, training, ptr(mm), ptr(mv), &y_, &mean_, &var_, &saved_);
        return std::make_tuple(y_, mean_, var_, saved_);
      });
    }
    py::object none = py::none();
    return py::make_tuple(y, training ? py::cast(mean) : none, training ? py::cast(var) : none, saved);
  }, py::arg("x"), py::arg("axis"), py::arg("gamma"), py::arg("beta"), py::arg("epsilon"), py::arg("training"),
     py::arg("moving_mean"), py::arg("moving_variance"));

  m.def("_batch_norm_backward", [](py::handle dy, const Tensor& x, const Tensor& saved, py::handle gamma, int64_t axis,
                                   bool training, bool need_dx, bool need_sums) {
    const Tensor dyt = resolve_operands("batch_norm backward", {dy})[0];
    const auto g = optional_tensor("batch_norm", "gamma", gamma);
    Tensor dx, sum_dy_xhat, sum_dy;
    {
      py::gil_scoped_release nogil;
      std::tie(dx, sum_dy_xhat, sum_dy) = plan_call("batch_norm_backward", [=] {
        Tensor dx_, a, b;
        norm_batch_backward(dyt, x, saved, ptr(g), axis, training, need_dx, need_sums, &dx_, &a, &b);
        return std::make_tuple(dx_, a, b);
      });
    }
    py::object none = py::none();
    return py::make_tuple(need_dx ? py::cast(dx) : none, need_sums ? py::cast(sum_dy_xhat) : none,
                          need_sums ? py::cast(sum_dy) : none);
  }, py::arg("dy"), py::arg("x"), py::arg("saved"), py::arg("gamma"), py::arg("axis"), py::arg("training"),
     py::arg("need_dx"), py::arg("need_sums"));
}

}  // namespace pynn
