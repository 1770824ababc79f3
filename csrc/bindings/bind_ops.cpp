// bind_ops.cpp: element-wise ops and reductions.
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <optional>
#include <tuple>

#include "bind.h"
#include "kernels/elementwise.h"
#include "kernels/nn.h"
#include "kernels/optim.h"
#include "kernels/reduce.h"
#include "plan/plan.h"

namespace pynn {
namespace {

// The optional out= argument: None or a tensor.
const Tensor* out_arg(const char* op, py::handle out) {
  if (out.is_none()) return nullptr;
  const Tensor* t = as_tensor(out);
  PYNN_CHECK_KIND(TypeError, t, op, ": out must be a pynn Tensor, got ", Py_TYPE(out.ptr())->tp_name);
  return t;
}

bool is_py_scalar(py::handle h) {
  return PyBool_Check(h.ptr()) || PyLong_CheckExact(h.ptr()) || PyFloat_CheckExact(h.ptr());
}

// A comparison with a Python int outside the range of the other operand's
// integer dtype (NumPy 2, NEP 50): the answer does not depend on the
// elements, only on the int's side (side[k] = -1 below, +1 above the range;
// k: the operand that is the int). Computed as t == t (all true; t is
// integral or bool, so never NaN) or t != t (all false), so shape, out= and
// its broadcasting follow the one path of every binary op.
Tensor compare_out_of_range(BinaryOp op, const Tensor& t, int k, int side, const Tensor* out) {
  const char* name = binary_op_name(op);  // errors name the comparison called
  if (k == 0) {  // s op t  ->  t op' s
    switch (op) {
      case BinaryOp::greater: op = BinaryOp::less; break;
      case BinaryOp::greater_equal: op = BinaryOp::less_equal; break;
      case BinaryOp::less: op = BinaryOp::greater; break;
      case BinaryOp::less_equal: op = BinaryOp::greater_equal; break;
      default: break;
    }
  }
  bool truth;
  switch (op) {
    case BinaryOp::less: case BinaryOp::less_equal: truth = side > 0; break;
    case BinaryOp::greater: case BinaryOp::greater_equal: truth = side < 0; break;
    case BinaryOp::equal: truth = false; break;
    default: truth = true; break;  // not_equal
  }
  return ew_binary(truth ? BinaryOp::equal : BinaryOp::not_equal, t, t, out, name);
}

// The out= tensor held by value (a recorded step keeps it, Note [Captured steps]).
std::optional<Tensor> held(const Tensor* t) {
  if (!t) return std::nullopt;
  return *t;
}

// With out= the function returns the very same Python object, as NumPy does.
py::object result(Tensor r, py::handle out) {
  if (!out.is_none()) return py::reinterpret_borrow<py::object>(out);
  return py::cast(std::move(r));
}

}  // namespace

void bind_ops(py::module_& m) {
#define PYNN_BIND_BINARY(name)                                                                \
  m.def(#name, [](py::handle a, py::handle b, py::handle out) {                               \
    const char* op = binary_op_name(BinaryOp::name); /* the public name, in errors */         \
    bool cmp = is_comparison(BinaryOp::name);                                              \
    std::vector<int> side;                                                                    \
    std::vector<Tensor> ab = resolve_operands(op, {a, b},                                     \
        cmp ? WeakIntPolicy::Clamp : WeakIntPolicy::Raise, &side);                            \
    int k = side[0] ? 0 : side[1] ? 1 : -1; /* the out-of-range int, if any */                \
    /* NumPy raises unless the other operand is an integer (not bool) array */                \
    if (k >= 0 && (side[1 - k] || !is_integral(ab[1 - k].dtype) || is_py_scalar(k ? a : b)))  \
      resolve_operands(op, {a, b}); /* raises */                                              \
    auto o = held(out_arg(op, out));                                                          \
    const Tensor x0 = ab[0], x1 = ab[1];                                                      \
    const int sk = k >= 0 ? side[k] : 0;                                                      \
    Tensor r;                                                                                 \
    {                                                                                         \
      py::gil_scoped_release nogil;                                                           \
      r = plan_call(op, [=] {                                                                 \
        return k >= 0 ? compare_out_of_range(BinaryOp::name, k ? x0 : x1, k, sk, ptr(o))      \
                      : ew_binary(BinaryOp::name, x0, x1, ptr(o));                            \
      });                                                                                     \
      if (k < 0 && !o) plan_annotate_binary(BinaryOp::name, x0, x1, r); /* Note [Plan passes] */ \
    }                                                                                         \
    return result(std::move(r), out);                                                         \
  }, py::arg("a"), py::arg("b"), py::arg("out") = py::none());
  PYNN_BINARY_OPS(PYNN_BIND_BINARY)
#undef PYNN_BIND_BINARY

#define PYNN_BIND_UNARY(name)                                                                 \
  m.def(#name, [](py::handle x, py::handle out) {                                             \
    Tensor xt = resolve_operands(#name, {x})[0];                                              \
    auto o = held(out_arg(#name, out));                                                       \
    Tensor r;                                                                                 \
    {                                                                                         \
      py::gil_scoped_release nogil;                                                           \
      r = plan_call(#name, [=] { return ew_unary(UnaryOp::name, xt, ptr(o)); });              \
      if (!o) plan_annotate_unary(UnaryOp::name, xt, r); /* Note [Plan passes] */             \
    }                                                                                         \
    return result(std::move(r), out);                                                         \
  }, py::arg("x"), py::arg("out") = py::none());
  PYNN_UNARY_OPS(PYNN_BIND_UNARY)
#undef PYNN_BIND_UNARY

  m.def("where", [](py::handle cond, py::handle a, py::handle b) {
    Tensor c = resolve_operands("where", {cond})[0];
    // NumPy's where casts a Python int that does not fit the result dtype
    // (keeping its low bits) where its ufuncs raise.
    std::vector<Tensor> ab = resolve_operands("where", {a, b}, WeakIntPolicy::Wrap);
    py::gil_scoped_release nogil;
    return plan_call("where", [=] { return ew_where(c, ab[0], ab[1]); });
  }, py::arg("condition"), py::arg("x"), py::arg("y"));

  m.def("clip", [](py::handle x, py::handle lo, py::handle hi, py::handle out) {
    // Weak bounds resolve against x (None bounds are left out).
    // A Python int bound beyond the integer dtype's range on its own side
    // (a_min below the minimum, a_max above the maximum) clips nothing, as in
    // NumPy: it is clamped to that limit. Past the other side it raises.
    std::vector<Tensor> v;
    std::vector<int> side;
    const auto clamp = WeakIntPolicy::Clamp;
    if (lo.is_none() && hi.is_none()) {
      v = resolve_operands("clip", {x});
      // NumPy: clip without bounds is np.positive, which has no bool loop.
      PYNN_CHECK_KIND(TypeError, v[0].dtype != DType::Bool,
                      "clip: a bool tensor needs a_min or a_max (NumPy has no bool loop for clip without bounds)");
    }
    else if (lo.is_none()) v = resolve_operands("clip", {x, hi}, clamp, &side);
    else if (hi.is_none()) v = resolve_operands("clip", {x, lo}, clamp, &side);
    else v = resolve_operands("clip", {x, lo, hi}, clamp, &side);
    bool any_side = false;
    for (int sd : side) any_side = any_side || sd != 0;
    if (any_side) {
      // Only beside an integer (not bool) dtype; beside bools an int is int64 and must fit.
      const py::handle args[3] = {x, lo, hi};
      const int idx[3] = {0, lo.is_none() ? -1 : 1, hi.is_none() ? -1 : lo.is_none() ? 1 : 2};
      bool have = false;
      DType strong = DType::Bool;
      for (int j = 0; j < 3; ++j)
        if (idx[j] >= 0 && !is_py_scalar(args[j])) {
          strong = have ? promote(strong, v[idx[j]].dtype) : v[idx[j]].dtype;
          have = true;
        }
      bool ok = side[0] == 0 && have && is_integral(strong);
      if (lo.is_none()) ok = ok && side[1] >= 0;
      else if (hi.is_none()) ok = ok && side[1] <= 0;
      else ok = ok && side[1] <= 0 && side[2] >= 0;
      if (!ok) {  // raises the OverflowError of the int that does not fit
        if (lo.is_none()) resolve_operands("clip", {x, hi});
        else if (hi.is_none()) resolve_operands("clip", {x, lo});
        else resolve_operands("clip", {x, lo, hi});
      }
    }
    auto lop = held(lo.is_none() ? nullptr : &v[1]);
    auto hip = held(hi.is_none() ? nullptr : &v[lo.is_none() ? 1 : 2]);
    auto o = held(out_arg("clip", out));
    const Tensor xv = v[0];
    Tensor r;
    {
      py::gil_scoped_release nogil;
      r = plan_call("clip", [=] { return ew_clip(xv, ptr(lop), ptr(hip), ptr(o)); });
    }
    return result(std::move(r), out);
  }, py::arg("x"), py::arg("a_min"), py::arg("a_max"), py::arg("out") = py::none());

  py::enum_<ReduceOp>(m, "_ReduceOp")
      .value("sum", ReduceOp::sum).value("mean", ReduceOp::mean)
      .value("max", ReduceOp::max).value("min", ReduceOp::min)
      .value("argmax", ReduceOp::argmax).value("argmin", ReduceOp::argmin);

  m.def("_reduce", [](ReduceOp op, py::handle x, py::handle axis, bool keepdims) {
    Tensor xt = resolve_operands(reduce_name(op), {x})[0];
    bool all;
    static const char* const what[] = {"sum: axis", "mean: axis", "max: axis", "min: axis", "argmax: axis",
                                       "argmin: axis"};  // ReduceOp order
    std::vector<int64_t> axes = axes_from_py(axis, &all, what[static_cast<int>(op)]);
    py::gil_scoped_release nogil;
    return plan_call(reduce_name(op), [=] { return reduce(op, xt, axes, all, keepdims); });
  }, py::arg("op"), py::arg("x"), py::arg("axis"), py::arg("keepdims"));

  py::enum_<OptimRule> optim_rule(m, "_OptimRule");
#define PYNN_OPTIM_VALUE(name, slots, scalars) optim_rule.value(#name, OptimRule::name);
  PYNN_OPTIM_RULES(PYNN_OPTIM_VALUE)
#undef PYNN_OPTIM_VALUE

  // scalars: a list of floats, or a float64 tensor read when the update runs
  // (a plan's host input, refilled before each replay: Note [Captured steps]).
  m.def("_optim_update", [](OptimRule rule, std::vector<Tensor> bufs, py::handle scalars) {
    Tensor h;
    if (const Tensor* ht = as_tensor(scalars)) {
      PYNN_CHECK_KIND(TypeError, ht->dtype == DType::Float64 && ht->ndim() == 1 && ht->is_contiguous(),
                      "optimizer update: scalars must be a contiguous 1-D float64 tensor");
      h = *ht;
    } else {  // a list of floats: a constant of a captured step
      const std::vector<double> v = scalars.cast<std::vector<double>>();
      h = tensor_empty(Dims{static_cast<int64_t>(v.size())}, DType::Float64);
      std::copy(v.begin(), v.end(), reinterpret_cast<double*>(h.data()));
    }
    py::gil_scoped_release nogil;
    plan_call("optimizer_update", [=] {
      optim_check_buffers(rule, bufs, static_cast<size_t>(h.shape[0]));
      optim_update_many(rule, {bufs}, {reinterpret_cast<const double*>(h.data())});
    });
    plan_annotate(std::make_shared<const PlanOptim>(PlanOptim{rule, bufs, h}));  // Note [Plan passes]
  }, py::arg("rule"), py::arg("buffers"), py::arg("scalars"),
     "One fused in-place optimizer update (Note [Fused optimizer updates]).");

  m.def("_softmax_rows", [](const Tensor& x, bool log) {
    py::gil_scoped_release nogil;
    return plan_call(log ? "log_softmax" : "softmax", [=] { return nn_softmax_rows(x, log); });
  }, py::arg("x"), py::arg("log"));

  m.def("_softmax_xent", [](const Tensor& logits, py::handle target, double scale, bool want_grad) {
    Tensor t = resolve_operands("softmax_cross_entropy", {target})[0];
    Tensor loss, grad;
    {
      py::gil_scoped_release nogil;
      std::tie(loss, grad) = plan_call("softmax_cross_entropy", [=] {
        Tensor l, g;
        nn_softmax_xent(logits, t, scale, &l, want_grad ? &g : nullptr);
        return std::make_pair(l, g);
      });
    }
    return py::make_tuple(loss, want_grad ? py::cast(grad) : py::none());
  }, py::arg("logits"), py::arg("target"), py::arg("scale"), py::arg("want_grad"));

  py::enum_<Activation>(m, "_Activation")
      .value("linear", Activation::linear).value("relu", Activation::relu)
      .value("sigmoid", Activation::sigmoid).value("tanh", Activation::tanh)
      .value("softmax", Activation::softmax);

  m.def("_dense", [](const Tensor& x, const Tensor& w, py::handle b, Activation act) {
    auto bp = held(out_arg("dense", b));
    py::gil_scoped_release nogil;
    return plan_call("dense", [=] { return nn_dense(x, w, ptr(bp), act); });
  }, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("activation"));

  m.def("_dense_backward", [](const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& y, Activation act,
                               bool need_dx, bool need_db) {
    Tensor dx, dw, db;
    {
      py::gil_scoped_release nogil;
      std::tie(dx, dw, db) = plan_call("dense_backward", [=] {
        Tensor gx, gw, gb;
        nn_dense_backward(dy, x, w, y, act, need_dx, need_db, &gx, &gw, &gb);
        return std::make_tuple(gx, gw, gb);
      });
    }
    return py::make_tuple(need_dx ? py::cast(dx) : py::none(), dw, need_db ? py::cast(db) : py::none());
  });

  // Note [Activation registry] (kernels/kernel_table.h).
  {
    py::enum_<ActOp> acts(m, "_Act");
#define PYNN_BIND_ACT(name) acts.value(#name, ActOp::name);
    PYNN_ACTIVATIONS(PYNN_BIND_ACT)
#undef PYNN_BIND_ACT
  }
  auto act_params = [](const std::vector<double>& p) {
    PYNN_CHECK(p.size() <= static_cast<size_t>(kActParams), "activation: at most ", kActParams, " scalars, got ",
               p.size());
    std::array<double, kActParams> h{};
    std::copy(p.begin(), p.end(), h.begin());
    return h;
  };
  m.def("_activation", [act_params](ActOp op, py::handle x, const std::vector<double>& params) {
    Tensor xt = resolve_operands(act_op_name(op), {x})[0];
    const auto h = act_params(params);
    py::gil_scoped_release nogil;
    return plan_call(act_op_name(op), [=] { return nn_activation(op, xt, h.data()); });
  }, py::arg("op"), py::arg("x"), py::arg("params"));
  m.def("_activation_grad", [act_params](ActOp op, py::handle dy, const Tensor& x, const Tensor& y,
                                         const std::vector<double>& params, int order) {
    Tensor dyt = resolve_operands(act_op_name(op), {dy})[0];
    const auto h = act_params(params);
    py::gil_scoped_release nogil;
    return plan_call("activation_grad", [=] { return nn_activation_grad(op, dyt, x, y, h.data(), order); });
  }, py::arg("op"), py::arg("dy"), py::arg("x"), py::arg("y"), py::arg("params"), py::arg("order") = 1);
  m.def("_dense_act", [act_params](const Tensor& x, const Tensor& w, py::handle b, ActOp op,
                                   const std::vector<double>& params) {
    auto bp = held(out_arg("dense", b));
    const auto h = act_params(params);
    Tensor y, z;
    {
      py::gil_scoped_release nogil;
      std::tie(y, z) = plan_call("dense", [=] {
        Tensor pre;
        Tensor out = nn_dense_act(x, w, ptr(bp), op, h.data(), &pre);
        return std::make_pair(out, pre);
      });
    }
    return py::make_tuple(y, z);
  }, py::arg("x"), py::arg("kernel"), py::arg("bias"), py::arg("op"), py::arg("params"));
  m.def("_dense_act_backward", [act_params](const Tensor& dy, const Tensor& x, const Tensor& w, const Tensor& z,
                                            const Tensor& y, ActOp op, const std::vector<double>& params,
                                            bool need_dx, bool need_db) {
    const auto h = act_params(params);
    Tensor dx, dw, db;
    {
      py::gil_scoped_release nogil;
      std::tie(dx, dw, db) = plan_call("dense_backward", [=] {
        Tensor gx, gw, gb;
        nn_dense_act_backward(dy, x, w, z, y, op, h.data(), need_dx, need_db, &gx, &gw, &gb);
        return std::make_tuple(gx, gw, gb);
      });
    }
    return py::make_tuple(need_dx ? py::cast(dx) : py::none(), dw, need_db ? py::cast(db) : py::none());
  });

  // Class labels (an int64 tensor of any shape) in [0, classes), else a
  // ValueError naming op: a step of a captured plan, so every replay checks.
  m.def("_check_labels", [](const Tensor& labels, int64_t classes, const std::string& op) {
    PYNN_CHECK_KIND(TypeError, labels.dtype == DType::Int64, op, ": labels must be int64 here, got ",
                    dtype_name(labels.dtype));
    py::gil_scoped_release nogil;
    plan_call("check_labels", [=] {
      const Tensor flat = ew_reshape(ew_contiguous(labels), Dims{labels.numel()});
      nn_check_labels(op.c_str(), flat, classes);
    });
  }, py::arg("labels"), py::arg("classes"), py::arg("op"));

  m.def("_dropout", [](const Tensor& x, double rate, const Tensor& key) {
    py::gil_scoped_release nogil;
    return plan_call("dropout", [=] { return nn_dropout(x, rate, key); });
  }, py::arg("x"), py::arg("rate"), py::arg("key"));

  m.def("_sum_to", [](const Tensor& x, py::handle shape) {
    Dims d = dims_from_py(shape, "sum_to: shape");
    py::gil_scoped_release nogil;
    return plan_call("sum_to", [=] { return reduce_sum_to(x, d); });
  });
}

}  // namespace pynn
