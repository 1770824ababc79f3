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

}  // namespace pynn
