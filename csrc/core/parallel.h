// parallel.h: the one parallel_for.
//
// Note [Threads]
// Every multi-threaded kernel goes through parallel_for (OpenMP underneath).
// Work below the grain size runs serially on the calling thread, so small
// arrays never wake the pool. The split of [0, n) into per-thread ranges is
// static and contiguous. Each participating thread (the caller included) runs
// with subnormals flushed to zero (FTZ/DAZ) for the duration of the call and
// has its previous floating-point mode restored afterwards (FloatModeGuard).
// The thread count is at most kMaxThreadsPerCpu times the CPU count: libgomp
// ends the process when it cannot create a thread.
//
// Note [Interrupts]
// Kernels run with the GIL released, so Ctrl-C only sets Python's flag; a
// long kernel must look at it. parallel_for does, and nothing else: each
// thread works through its range in chunks (parallel_chunk(grain) items:
// 256 grains, or one item for grain 1, so small work is one call as before), and between two
// chunks the thread that called parallel_for calls the interrupt hook, at
// most once per kInterruptPollMs and never in the first kInterruptPollMs of
// a call (short kernels never pay for it). The hook is set by the bindings
// (bind_runtime.cpp): on Python's main thread it takes the GIL, runs
// PyErr_CheckSignals (so Python's own handlers run, a user's too), stashes a
// raised exception and returns true. Then every thread stops at its next
// chunk boundary, parallel_for throws Interrupted, and the bindings'
// translator restores the stashed exception (KeyboardInterrupt). Worker
// threads never touch Python; they only read an atomic flag. What was
// written before the stop stays written (as with NumPy). Granularity: one
// chunk, so a single call of the body over a long range (one kept row of a
// reduction, one GEMM block) is not cut.
#pragma once

#include <cstdint>

namespace pynn {

constexpr int64_t kGrainSize = 32768;  // elements; about 32K as in DESIGN.md §4.6
constexpr int kMaxThreadsPerCpu = 4;
// 256 grains (8M elements, a few ms): 16 cut a reduction's kept columns into
// narrow strips walked across every row, 2.7x slower for sum(axis=0) of 4096^2.
constexpr int64_t kChunkGrains = 256;    // Note [Interrupts]
constexpr int kInterruptPollMs = 20;

int get_num_threads();
// n >= 1; returns the count set: at most max_num_threads().
int set_num_threads(int64_t n);
int max_num_threads();  // kMaxThreadsPerCpu * the CPUs online
bool in_parallel_region();

// Note [Interrupts]: the hook returns true when the run must stop. It is
// called only on the thread that called parallel_for.
using InterruptHook = bool (*)();
void set_interrupt_hook(InterruptHook hook);

// Items per chunk for a grain (Note [Interrupts]).
// Grain 1 means each item is already a large piece of work (a GEMM block, a
// reduction block): one item per chunk.
inline int64_t parallel_chunk(int64_t grain) { return grain > 1 ? grain * kChunkGrains : 1; }

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
// Runs body(begin, end) over each thread's share of [0, n) in chunks of
// `chunk` items, checking for interrupts between chunks; nthreads >= 1.
void parallel_run(int64_t n, int nthreads, int64_t chunk, void (*body)(void* ctx, int64_t, int64_t), void* ctx);
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
  int64_t chunk = parallel_chunk(grain);
  if (nt <= 1 && n <= chunk) {
    FloatModeGuard fm;
    f(int64_t{0}, n);
    return;
  }
  detail::parallel_run(
      n, nt, chunk,
      [](void* ctx, int64_t b, int64_t e) { (*static_cast<const F*>(ctx))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace pynn
