#include "parallel.h"

#include <omp.h>
#include <xmmintrin.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <thread>

#include "check.h"

namespace pynn {
namespace {

int initial_threads() {
  // OMP_NUM_THREADS is honoured by the OpenMP runtime itself (capped).
  int n = omp_get_max_threads();
  return n < 1 ? 1 : n > max_num_threads() ? max_num_threads() : n;
}

std::atomic<InterruptHook> interrupt_hook{nullptr};

// The calling thread's side of Note [Interrupts]: polls the hook at most
// every kInterruptPollMs, the first time kInterruptPollMs after the start.
struct InterruptPoll {
  using Clock = std::chrono::steady_clock;
  InterruptHook hook = interrupt_hook.load(std::memory_order_acquire);
  Clock::time_point next = Clock::now() + std::chrono::milliseconds(kInterruptPollMs);

  bool due_and_raised() {
    if (!hook) return false;
    Clock::time_point now = Clock::now();
    if (now < next) return false;
    bool raised = hook();
    next = Clock::now() + std::chrono::milliseconds(kInterruptPollMs);
    return raised;
  }
};

std::atomic<int>& threads() {
  static std::atomic<int> n{initial_threads()};
  return n;
}

}  // namespace

int get_num_threads() { return threads().load(std::memory_order_relaxed); }

int max_num_threads() {
  unsigned cpus = std::thread::hardware_concurrency();
  return kMaxThreadsPerCpu * static_cast<int>(cpus < 1 ? 1 : cpus);
}

int set_num_threads(int64_t n) {
  int v = n < 1 ? 1 : n > max_num_threads() ? max_num_threads() : static_cast<int>(n);
  threads().store(v);
  return v;
}

void set_interrupt_hook(InterruptHook hook) { interrupt_hook.store(hook, std::memory_order_release); }

bool in_parallel_region() { return omp_in_parallel() != 0; }

FloatModeGuard::FloatModeGuard() : saved_(_mm_getcsr()) {
  // FTZ (bit 15) and DAZ (bit 6).
  _mm_setcsr(saved_ | 0x8040u);
}

FloatModeGuard::~FloatModeGuard() { _mm_setcsr(saved_); }

namespace detail {

void parallel_run(int64_t n, int nthreads, int64_t chunk, void (*body)(void*, int64_t, int64_t), void* ctx) {
  std::exception_ptr error;
  std::atomic<bool> stop{false};
  InterruptPoll poll;
  // One thread's share [begin, end) chunk by chunk; `caller` polls the hook.
  auto run_share = [&](int64_t begin, int64_t end, bool caller) {
    try {
      for (int64_t b = begin; b < end; b += chunk) {
        if (stop.load(std::memory_order_relaxed)) return;
        if (b > begin && caller && poll.due_and_raised()) {
          stop.store(true, std::memory_order_relaxed);
          throw Interrupted("interrupted");
        }
        body(ctx, b, end - b > chunk ? b + chunk : end);
      }
    } catch (...) {
      stop.store(true, std::memory_order_relaxed);
#pragma omp critical(pynn_parallel_error)
      if (!error) error = std::current_exception();
    }
  };
  if (nthreads <= 1) {
    FloatModeGuard fm;
    run_share(0, n, true);
  } else {
#pragma omp parallel num_threads(nthreads)
    {
      FloatModeGuard fm;
      int tid = omp_get_thread_num();
      int nt = omp_get_num_threads();
      int64_t share = n / nt, rem = n % nt;
      int64_t begin = tid * share + (tid < rem ? tid : rem);
      int64_t end = begin + share + (tid < rem ? 1 : 0);
      // The thread that called parallel_for is the team's thread 0.
      if (begin < end) run_share(begin, end, tid == 0);
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace detail
}  // namespace pynn
