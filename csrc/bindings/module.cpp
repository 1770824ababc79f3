// module.cpp: pynn._core is this list of bind_* calls.
#include "bind.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "pynn's C++ core (private: use the pynn package).";
  pynn::bind_errors(m);
  pynn::bind_tensor(m);
  pynn::bind_ops(m);
  pynn::bind_linalg(m);
  pynn::bind_metrics(m);
  pynn::bind_norm(m);
  pynn::bind_conv(m);
  pynn::bind_plan(m);
  pynn::bind_pool(m);
  pynn::bind_runtime(m);
}
