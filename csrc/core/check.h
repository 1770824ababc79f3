// check.h: the one way to report errors.
//
// Note [Errors at the boundary]
// User errors are checked once, where arguments enter the core (shape rules,
// dtypes, axes), with PYNN_CHECK / PYNN_CHECK_KIND. The bindings translate the
// exception types below to ValueError / TypeError / IndexError / MemoryError. Kernels contain
// no checks: they run only on arguments that were already validated.
// PYNN_ASSERT is for internal invariants (a bug in pynn, never in user code).
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace pynn {

struct ValueError : std::runtime_error { using std::runtime_error::runtime_error; };
struct TypeError : std::runtime_error { using std::runtime_error::runtime_error; };
struct IndexError : std::runtime_error { using std::runtime_error::runtime_error; };
// An allocation that failed (MemoryError in Python, with NumPy's wording).
struct MemoryError : std::runtime_error { using std::runtime_error::runtime_error; };
// A signal handler raised while a kernel ran (Note [Interrupts] in parallel.h):
// the Python exception is already stashed by the bindings' hook.
struct Interrupted : std::runtime_error { using std::runtime_error::runtime_error; };
// A captured plan that cannot replay (Note [Captured steps] in plan/plan.h):
// RuntimeError in Python; fit falls back to the eager step.
struct PlanError : std::runtime_error { using std::runtime_error::runtime_error; };
struct InternalError : std::logic_error { using std::logic_error::logic_error; };

namespace detail {
template <class... A>
std::string cat(const A&... a) {
  std::ostringstream s;
  (s << ... << a);
  return s.str();
}
}  // namespace detail

}  // namespace pynn

// PYNN_CHECK_KIND(TypeError, dtype_ok, "exp: unsupported dtype ", name)
#define PYNN_CHECK_KIND(Kind, cond, ...)                         \
  do {                                                           \
    if (!(cond)) throw ::pynn::Kind(::pynn::detail::cat(__VA_ARGS__)); \
  } while (0)

// PYNN_CHECK(a.ndim() == 2, "matmul: ", a.shape, " is not 2-D")  -> ValueError
#define PYNN_CHECK(cond, ...) PYNN_CHECK_KIND(ValueError, cond, __VA_ARGS__)

#define PYNN_ASSERT(cond, ...)                                                  \
  do {                                                                          \
    if (!(cond))                                                                \
      throw ::pynn::InternalError(::pynn::detail::cat(                          \
          "pynn internal error at ", __FILE__, ":", __LINE__, ": " #cond " ", ##__VA_ARGS__)); \
  } while (0)
