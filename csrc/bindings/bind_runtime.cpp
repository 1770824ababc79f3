// bind_runtime.cpp: error translation, threads, ISA choice, memory stats.
#include "bind.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "core/storage.h"

namespace pynn {

void bind_errors(py::module_& m) {
  // AxisError is both a ValueError and an IndexError, like NumPy's.
  static py::object axis_error = py::reinterpret_steal<py::object>(PyErr_NewException(
      "pynn.AxisError", py::make_tuple(py::handle(PyExc_ValueError), py::handle(PyExc_IndexError)).ptr(), nullptr));
  m.attr("AxisError") = axis_error;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const AxisError& e) {
      PyErr_SetString(axis_error.ptr(), e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const InternalError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads, "Threads pynn's kernels use.");
  m.def("set_num_threads", [](int n) {
    PYNN_CHECK(n >= 1, "set_num_threads: n must be >= 1, got ", n);
    set_num_threads(n);
  }, py::arg("n"));

  m.def("get_cpu_isa", [] { return std::string(cpu_isa_name(cpu_isa())); });
  m.def("set_cpu_isa", [](const std::string& name) {
    CpuIsa isa;
    PYNN_CHECK(cpu_isa_from_name(name.c_str(), &isa), "set_cpu_isa: unknown ISA '", name,
               "' (expected 'generic', 'avx2' or 'avx512')");
    PYNN_CHECK(isa <= cpu_isa_supported(), "set_cpu_isa: this CPU does not support ", name);
    set_cpu_isa(isa);
  }, py::arg("name"));
  m.def("supported_cpu_isas", [] {
    py::list l;
    for (int i = 0; i <= static_cast<int>(cpu_isa_supported()); ++i) l.append(cpu_isa_name(static_cast<CpuIsa>(i)));
    return l;
  });

  m.def("memory_stats", [] {
    MemoryStats s = memory_stats();
    py::dict d;
    d["allocated_bytes"] = s.allocated_bytes;
    d["cached_bytes"] = s.cached_bytes;
    d["peak_bytes"] = s.peak_bytes;
    d["cache_limit_bytes"] = s.cache_limit_bytes;
    d["num_allocs"] = s.num_allocs;
    d["num_cache_hits"] = s.num_cache_hits;
    d["num_os_allocs"] = s.num_os_allocs;
    return d;
  });
  m.def("empty_cache", &memory_empty_cache, "Return every cached block to the OS.");
  m.def("set_cache_limit", &memory_set_cache_limit, py::arg("nbytes"));
  m.def("reset_peak_memory", &memory_reset_peak);
}

}  // namespace pynn
