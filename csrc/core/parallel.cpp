#include "parallel.h"

#include <omp.h>
#include <xmmintrin.h>

#include <atomic>
#include <cstdlib>
#include <exception>

namespace pynn {
namespace {

int initial_threads() {
  // OMP_NUM_THREADS is honoured by the OpenMP runtime itself.
  int n = omp_get_max_threads();
  return n < 1 ? 1 : n;
}

std::atomic<int>& threads() {
  static std::atomic<int> n{initial_threads()};
  return n;
}

}  // namespace

int get_num_threads() { return threads().load(std::memory_order_relaxed); }

void set_num_threads(int n) { threads().store(n < 1 ? 1 : n); }

bool in_parallel_region() { return omp_in_parallel() != 0; }

FloatModeGuard::FloatModeGuard() : saved_(_mm_getcsr()) {
  // FTZ (bit 15) and DAZ (bit 6).
  _mm_setcsr(saved_ | 0x8040u);
}

FloatModeGuard::~FloatModeGuard() { _mm_setcsr(saved_); }

namespace detail {

void parallel_run(int64_t n, int nthreads, void (*body)(void*, int64_t, int64_t), void* ctx) {
  std::exception_ptr error;
#pragma omp parallel num_threads(nthreads)
  {
    FloatModeGuard fm;
    int tid = omp_get_thread_num();
    int nt = omp_get_num_threads();
    int64_t chunk = n / nt, rem = n % nt;
    int64_t begin = tid * chunk + (tid < rem ? tid : rem);
    int64_t end = begin + chunk + (tid < rem ? 1 : 0);
    if (begin < end) {
      try {
        body(ctx, begin, end);
      } catch (...) {
#pragma omp critical(pynn_parallel_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace pynn
