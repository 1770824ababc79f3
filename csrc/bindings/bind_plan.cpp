// bind_plan.cpp: capture and replay of steps (Note [Captured steps] in plan/plan.h).
#include <pybind11/stl.h>

#include <memory>

#include "bind.h"
#include "plan/plan.h"

namespace pynn {
namespace {

// The recorder this thread is capturing into (owned here; plan_recorder()
// points at it while active).
std::unique_ptr<Recorder>& owned_recorder() {
  thread_local std::unique_ptr<Recorder> rec;
  return rec;
}

const Tensor* order_arg(const char* op, py::handle order) {
  const Tensor* o = as_tensor(order);
  PYNN_CHECK_KIND(TypeError, o || order.is_none(), op, ": order must be a tensor or None");
  PYNN_CHECK_KIND(TypeError, !o || (o->dtype == DType::Int64 && o->ndim() == 1), op,
                  ": order must be a 1-D int64 tensor");
  return o;
}

Recorder& active(const char* op) {
  Recorder* rec = plan_recorder();
  PYNN_CHECK_KIND(PlanError, rec, op, ": no capture is active");
  return *rec;
}

}  // namespace

void plan_host_read(const Tensor& t) {
  Recorder* rec = plan_recorder();
  if (!rec || !rec->failure.empty() || !rec->is_dynamic(t)) return;
  // Where in Python the value was read: pynn._capture names the frame.
  std::string place = py::str(py::module_::import("pynn._capture").attr("_python_place")());
  rec->fail("Python reads the values of a tensor that the step computes or that changes between steps (" + place +
            "): a captured step cannot run Python on its values");
}

void bind_plan(py::module_& m) {
  py::class_<Plan, std::shared_ptr<Plan>>(m, "_Plan", "A captured step (Note [Captured steps]).")
      .def("run", [](const Plan& p, const std::vector<Tensor>& sources, py::handle order, int64_t start,
                     int64_t stop) {
        const Tensor* o = order_arg("plan.run", order);
        py::gil_scoped_release nogil;
        p.run(sources, o, start, stop);
      }, py::arg("sources"), py::arg("order"), py::arg("start"), py::arg("stop"),
         "Gathers rows start..stop (through order) of each source into the input buffers and replays the step.")
      .def("replay", [](const Plan& p) {
        py::gil_scoped_release nogil;
        p.replay();
      })
      .def("profile", [](const Plan& p) {
        std::vector<double> times;
        {
          py::gil_scoped_release nogil;
          p.replay(&times);
        }
        return times;
      }, "Replays once (on the batch already in the input buffers) and returns each step's seconds.")
      .def_property_readonly("ops", [](const Plan& p) {
        std::vector<std::string> ops;
        for (const PlanStep& s : p.steps) ops.push_back(s.op);
        return ops;
      })
      .def_property_readonly("buffer_bytes", &Plan::buffer_bytes);

  m.def("_plan_begin", []() {
    PYNN_CHECK_KIND(PlanError, !plan_recorder(), "capture: a capture is already active on this thread");
    owned_recorder() = std::make_unique<Recorder>();
    plan_recorder() = owned_recorder().get();
  });
  m.def("_plan_end", [](const std::vector<Tensor>& inputs, bool passes) {
    Recorder& rec = active("_plan_end");
    auto plan = std::make_shared<Plan>();
    plan->steps = std::move(rec.steps);
    plan->inputs = inputs;
    plan_recorder() = nullptr;
    owned_recorder().reset();
    if (passes) {  // Note [Plan passes]
      plan_merge_updates(*plan);
      plan_fuse_elementwise(*plan);
      plan_share_scratch(*plan);
    }
    return plan;
  }, py::arg("inputs"), py::arg("passes") = true,
     "Ends the capture: the recorded steps, with the passes of Note [Plan passes] applied unless passes=False.");
  m.def("_plan_abort", []() {
    plan_recorder() = nullptr;
    owned_recorder().reset();
  });
  m.def("_plan_active", []() { return plan_recorder() != nullptr; });
  m.def("_plan_mark", []() { return active("_plan_mark").steps.size(); });
  m.def("_plan_rollback", [](size_t mark) {
    Recorder& rec = active("_plan_rollback");
    if (mark < rec.steps.size()) rec.steps.resize(mark);
    rec.failure.clear();
  });
  m.def("_plan_failure", []() { return active("_plan_failure").failure; });
  m.def("_plan_fail", [](const std::string& why) { active("_plan_fail").fail(why); });
  m.def("_plan_dynamic", [](const std::vector<Tensor>& tensors) {
    Recorder& rec = active("_plan_dynamic");
    for (const Tensor& t : tensors)
      if (t.storage) rec.dynamic.insert(t.storage.get());
  }, "Marks tensors whose values change between replays (inputs, variables, optimizer and metric state).");
  m.def("_gather", [](const Tensor& src, py::handle order, int64_t start, int64_t stop) {
    const Tensor* o = order_arg("gather", order);
    PYNN_CHECK(src.ndim() >= 1 && 0 <= start && start <= stop && stop <= (o ? o->shape[0] : src.shape[0]),
               "gather: rows ", start, "..", stop, " out of range for shape ", src.shape);
    Dims shape = src.shape;
    shape[0] = stop - start;
    py::gil_scoped_release nogil;
    Tensor dst = tensor_empty(shape, src.dtype);
    plan_gather(src, dst, o, start, stop - start);
    return dst;
  }, py::arg("src"), py::arg("order"), py::arg("start"), py::arg("stop"),
     "Rows start..stop of src (through order: row order[i]) as a new contiguous tensor.");
}

}  // namespace pynn
