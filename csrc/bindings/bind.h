// bind.h: the bind_* functions module.cpp calls, and what they share.
#pragma once

#include "convert.h"

namespace pynn {

void bind_errors(py::module_& m);
void bind_tensor(py::module_& m);
void bind_ops(py::module_& m);
void bind_runtime(py::module_& m);
void bind_linalg(py::module_& m);
void bind_metrics(py::module_& m);
void bind_norm(py::module_& m);
void bind_plan(py::module_& m);
void bind_conv(py::module_& m);
void bind_pool(py::module_& m);

// Python reading a tensor's memory (the buffer protocol): while a step is
// captured, reading a value that changes between replays fails the capture
// (Note [Captured steps] in plan/plan.h).
void plan_host_read(const Tensor& t);

}  // namespace pynn
