// bind_runtime.cpp: error translation, threads, ISA choice, memory stats.
#include "bind.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "core/storage.h"

#include <pythread.h>

namespace pynn {
namespace {

// Note [Interrupts] (core/parallel.h): the hook and the exception it stashes.
unsigned long main_thread_ident = 0;
PyObject* stashed_type = nullptr;
PyObject* stashed_value = nullptr;
PyObject* stashed_tb = nullptr;

bool check_signals_hook() {
  // Only Python's main thread runs signal handlers; elsewhere there is nothing to see.
  if (PyThread_get_thread_ident() != main_thread_ident) return false;
  PyGILState_STATE s = PyGILState_Ensure();
  bool raised = PyErr_CheckSignals() != 0;
  if (raised) {
    Py_CLEAR(stashed_type);
    Py_CLEAR(stashed_value);
    Py_CLEAR(stashed_tb);
    PyErr_Fetch(&stashed_type, &stashed_value, &stashed_tb);
  }
  PyGILState_Release(s);
  return raised;
}

}  // namespace

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
    } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const Interrupted&) {
      if (stashed_type) {
        PyErr_Restore(stashed_type, stashed_value, stashed_tb);
        stashed_type = stashed_value = stashed_tb = nullptr;
      } else {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
      }
    } catch (const InternalError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads, "Threads pynn's kernels use.");
  main_thread_ident = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  set_interrupt_hook(&check_signals_hook);

  m.def("set_num_threads", [](py::handle h) {
    PYNN_CHECK_KIND(TypeError, PyIndex_Check(h.ptr()) && !PyBool_Check(h.ptr()),
                    "set_num_threads: n must be an int, not ", Py_TYPE(h.ptr())->tp_name);
    long long n;
    int overflow;
    if (!index_int(h, &n, &overflow)) throw py::error_already_set();
    if (overflow) n = overflow > 0 ? INT64_MAX : INT64_MIN;
    PYNN_CHECK(n >= 1, "set_num_threads: n must be >= 1, got ", py::str(h).cast<std::string>());
    // More threads than this only slow kernels down, and libgomp ends the
    // process when the OS refuses one (a process limit): cap with a warning.
    if (n > max_num_threads()) {
      std::string msg = detail::cat("set_num_threads: ", py::str(h).cast<std::string>(), " threads is more than ",
                                    kMaxThreadsPerCpu, " per CPU; using ", max_num_threads());
      if (PyErr_WarnEx(PyExc_RuntimeWarning, msg.c_str(), 1) < 0) throw py::error_already_set();
    }
    set_num_threads(n);
  }, py::arg("n"), "Threads pynn's kernels use: n >= 1, at most 4 per CPU (more is capped with a RuntimeWarning).");

  m.def("get_cpu_isa", [] { return std::string(cpu_isa_name(cpu_isa())); });
  m.def("set_cpu_isa", [](py::handle h) {
    PYNN_CHECK_KIND(TypeError, PyUnicode_Check(h.ptr()), "set_cpu_isa: the ISA must be a name ('generic', "
                    "'avx2' or 'avx512'), got ", Py_TYPE(h.ptr())->tp_name);
    std::string name = h.cast<std::string>();
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
  m.def("set_cache_limit", [](py::handle nbytes) {
    // Checked here, not by pybind11's int caster (whose message lists signatures).
    PYNN_CHECK_KIND(TypeError, PyIndex_Check(nbytes.ptr()) && !PyBool_Check(nbytes.ptr()),
                    "set_cache_limit: nbytes must be an int, got ", Py_TYPE(nbytes.ptr())->tp_name);
    long long v;
    int overflow;
    py::object i = index_int(nbytes, &v, &overflow);
    if (!i) throw py::error_already_set();
    if (overflow) {
      std::string repr = py::str(i);
      throw ValueError(detail::cat("set_cache_limit: nbytes ", repr, " does not fit in int64"));
    }
    memory_set_cache_limit(v);
  }, py::arg("nbytes"), "Cap the bytes the allocator keeps cached for reuse (negative means 0).");
  m.def("reset_peak_memory", &memory_reset_peak);
}

}  // namespace pynn
