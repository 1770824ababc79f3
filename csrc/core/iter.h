// iter.h: the one broadcasting iterator.
//
// Note [Broadcasting iterator]
// Every element-wise op, comparison, where, clip, copy/cast and reduction runs
// through this iterator. The caller hands it operand views that already have
// the full iteration shape (broadcast axes have stride 0, which is also how a
// reduction's accumulator is given stride 0 along the reduced axes). iter_make
//   1. orders the axes by decreasing |stride| of one chosen operand (the
//      output for element-wise ops, the input for reductions), so the inner
//      loop walks memory forwards in small steps,
//   2. drops size-1 axes,
//   3. coalesces neighbouring axes whose strides chain for every operand,
// and the run functions call a 1-D inner loop with pointers and byte strides.
// The inner loop (kernels/loops.h) picks its fast path (all contiguous, one
// operand a scalar) from those strides.
#pragma once

#include <cstdint>

#include "parallel.h"
#include "tensor.h"

namespace pynn {

constexpr int kMaxOperands = 5;

// ptrs[i] points at the first element of operand i for this run; strides[i]
// is its byte stride along the run; n >= 1 elements.
using InnerLoop = void (*)(char** ptrs, const int64_t* strides, int64_t n);
// The 2-D form: `rows` runs of n elements, run r of operand i starting at
// ptrs[i] + r * outer[i]. Reductions use it to fold several input rows per
// pass over their accumulators.
using InnerLoop2D = void (*)(char** ptrs, const int64_t* strides, int64_t n, const int64_t* outer, int64_t rows);

struct Iter {
  int nops = 0;
  int ndim = 0;                               // after ordering and coalescing; outer -> inner
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims][kMaxOperands];    // bytes
  char* base[kMaxOperands];
  int64_t numel = 0;
};

// All operands must have the same shape; `order_by` names the operand whose
// strides decide the axis order.
Iter iter_make(int nops, const Tensor* const* operands, int order_by);

// The same iteration restricted to [lo, hi) along axis `dim` of it.
Iter iter_restrict(const Iter& it, int dim, int64_t lo, int64_t hi);

// Runs loop over the linear element range [begin, end) of the iteration.
void iter_run_range(const Iter& it, int64_t begin, int64_t end, InnerLoop loop);
// The same with a 2-D loop: whole rows of the two innermost axes go to one call.
void iter_run_range_2d(const Iter& it, int64_t begin, int64_t end, InnerLoop2D loop);

// Runs loop over the whole iteration, split across threads when it is larger
// than `grain` elements.
inline void iter_run(const Iter& it, InnerLoop loop, int64_t grain = kGrainSize) {
  parallel_for(it.numel, grain, [&](int64_t b, int64_t e) { iter_run_range(it, b, e, loop); });
}

}  // namespace pynn
