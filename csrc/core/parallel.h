// parallel.h: the one parallel_for.
//
// Note [Threads]
// Every multi-threaded kernel goes through parallel_for (OpenMP underneath).
// Work below the grain size runs serially on the calling thread, so small
// arrays never wake the pool. The split of [0, n) into per-thread ranges is
// static and contiguous. Each participating thread (the caller included) runs
// with subnormals flushed to zero (FTZ/DAZ) for the duration of the call and
// has its previous floating-point mode restored afterwards (FloatModeGuard).
#pragma once

#include <cstdint>

namespace pynn {

constexpr int64_t kGrainSize = 32768;  // elements; about 32K as in DESIGN.md §4.6

int get_num_threads();
void set_num_threads(int n);  // n >= 1
bool in_parallel_region();

// Sets FTZ/DAZ in MXCSR for its lifetime and restores the old mode after.
class FloatModeGuard {
 public:
  FloatModeGuard();
  ~FloatModeGuard();
  FloatModeGuard(const FloatModeGuard&) = delete;
  FloatModeGuard& operator=(const FloatModeGuard&) = delete;

 private:
  unsigned int saved_;
};

namespace detail {
// Runs body(begin, end) for each thread's share of [0, n); nthreads >= 2.
void parallel_run(int64_t n, int nthreads, void (*body)(void* ctx, int64_t, int64_t), void* ctx);
}

// How many threads parallel_for would use for n items of this grain.
inline int parallel_threads_for(int64_t n, int64_t grain) {
  if (n <= grain || in_parallel_region()) return 1;
  int64_t by_work = (n + grain - 1) / grain;
  int nt = get_num_threads();
  return by_work < nt ? static_cast<int>(by_work) : nt;
}

// f(begin, end) is called on disjoint ranges covering [0, n).
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  int nt = parallel_threads_for(n, grain);
  if (nt <= 1) {
    FloatModeGuard fm;
    f(int64_t{0}, n);
    return;
  }
  detail::parallel_run(
      n, nt,
      [](void* ctx, int64_t b, int64_t e) { (*static_cast<const F*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace pynn
