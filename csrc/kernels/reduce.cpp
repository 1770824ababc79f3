// Note [Reductions]
// A reduction is an iteration (core/iter.h) over (accumulator, input) where the
// accumulator view has the input's shape with stride 0 along the reduced axes.
// The axes are ordered by the input's strides, so memory is walked in order;
// the inner loop either folds a run into one accumulator (run along a reduced
// axis) or folds a run element-wise into a row of accumulators (run along a
// kept axis). Float sums accumulate in double.
//
// Parallel split, chosen from the shape alone so that the result is
// bit-identical for any thread count:
//  - a kept axis of extent >= 16: split it; each accumulator is still folded
//    in the same order as serially;
//  - otherwise: cut the longest reduced axis into fixed blocks of at least
//    kGrainSize elements, fold each block into its own partial accumulator and
//    combine the partials in block order. The partials are one allocation of
//    at most kMaxReduceBlocks blocks and kPartialBudget elements (longer
//    blocks past that), so a reduction over a huge view (2**40 elements of a
//    broadcast) allocates a bounded amount, not one tensor per block.
// Integer means accumulate in float64, as NumPy's (an int64 sum would wrap).
#include "reduce.h"

#include <algorithm>
#include <limits>

#include "elementwise.h"
#include "kernel_table.h"

namespace pynn {

const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::mean: return "mean";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
    case ReduceOp::argmax: return "argmax";
    case ReduceOp::argmin: return "argmin";
  }
  return "reduce";
}

namespace {

// A 0-d tensor holding value v converted to dtype d.
Tensor scalar_tensor(DType d, double v) {
  Tensor s = tensor_empty(Dims{}, d);
  dispatch_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    *reinterpret_cast<T*>(s.data()) = static_cast<T>(v);
  });
  return s;
}

// Identity of max (lowest value) or min (highest value) for dtype d.
Tensor extreme_identity(DType d, bool for_max) {
  Tensor s = tensor_empty(Dims{}, d);
  dispatch_dtype(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v;
    if constexpr (std::is_floating_point_v<T>) v = for_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    else v = for_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
    *reinterpret_cast<T*>(s.data()) = v;
  });
  return s;
}

// Enough blocks that one stays short (2**40 elements: blocks of 2**24, so
// Ctrl-C is seen within one, Note [Interrupts]), few enough that their
// accumulators stay small.
constexpr int64_t kMaxReduceBlocks = 65536;
constexpr int64_t kPartialBudget = int64_t{1} << 22;  // accumulator elements over all blocks

struct Plan {
  Iter it;
  int nacc;  // leading operands that are accumulators (1, or 2 for arg reductions)
};

// Runs the reduction plan into the accumulators `accs` (contiguous tensors of
// the keepdims shape, already holding the identity).
void run_plan(const Plan& plan, InnerLoop2D loop, const std::vector<Tensor>& accs, ReduceOp op) {
  const Iter& it = plan.it;
  if (it.numel == 0) return;
  // Longest kept and longest reduced axis of the ordered iteration.
  int kept = -1, red = -1;
  for (int d = 0; d < it.ndim; ++d) {
    bool is_kept = it.strides[d][0] != 0;
    if (is_kept && (kept < 0 || it.shape[d] > it.shape[kept])) kept = d;
    if (!is_kept && (red < 0 || it.shape[d] > it.shape[red])) red = d;
  }
  if (it.numel < 2 * kGrainSize || (kept < 0 && red < 0)) {
    FloatModeGuard fm;
    iter_run_range_2d(it, 0, it.numel, loop);
    return;
  }
  if (kept >= 0 && (it.shape[kept] >= 16 || red < 0)) {
    int64_t ext = it.shape[kept];
    int64_t per = it.numel / ext;
    int64_t grain = kGrainSize / per > 1 ? kGrainSize / per : 1;
    parallel_for(ext, grain, [&](int64_t lo, int64_t hi) {
      Iter sub = iter_restrict(it, kept, lo, hi);
      iter_run_range_2d(sub, 0, sub.numel, loop);
    });
    return;
  }
  int64_t ext = it.shape[red];
  int64_t per = it.numel / ext;
  int64_t block = (kGrainSize + per - 1) / per;
  int64_t nblocks = (ext + block - 1) / block;
  const int64_t acc_numel = accs[0].numel();
  int64_t max_blocks = std::max<int64_t>(1, std::min(kMaxReduceBlocks, kPartialBudget / acc_numel));
  if (nblocks > max_blocks) {
    block = (ext + max_blocks - 1) / max_blocks;
    nblocks = (ext + block - 1) / block;
  }
  // Partial accumulators, one set per block, starting from the identity: for
  // each accumulator one (nblocks, acc_numel) tensor; block b's set are views
  // of its row b with the accumulator's (contiguous) layout.
  std::vector<std::vector<Tensor>> partials(nblocks);
  AllocScratch scratch;  // sized by the thread count (Note [Captured allocations])
  for (const Tensor& acc : accs) {
    Tensor all = tensor_empty(Dims{nblocks, acc_numel}, acc.dtype);
    Tensor row;
    tensor_reshape_view(acc, Dims{1, acc_numel}, &row);
    ew_copy("reduce", all, row);
    for (int64_t b = 0; b < nblocks; ++b) {
      Tensor p = acc;
      p.storage = all.storage;
      p.offset = all.offset + b * acc_numel * acc.elsize();
      partials[b].push_back(p);
    }
  }
  parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int64_t lo = b * block, hi = lo + block < ext ? lo + block : ext;
      Iter sub = iter_restrict(it, red, lo, hi);
      // Same layout as the accumulator: swap in the partial's memory.
      for (int k = 0; k < plan.nacc; ++k)
        sub.base[k] = partials[b][k].data() + (sub.base[k] - accs[k].data());
      iter_run_range_2d(sub, 0, sub.numel, loop);
    }
  });
  for (int64_t b = 0; b < nblocks; ++b) {
    switch (op) {
      case ReduceOp::sum: case ReduceOp::mean:
        ew_binary(BinaryOp::add, accs[0], partials[b][0], &accs[0]);
        break;
      case ReduceOp::max:
        ew_binary(BinaryOp::maximum, accs[0], partials[b][0], &accs[0]);
        break;
      case ReduceOp::min:
        ew_binary(BinaryOp::minimum, accs[0], partials[b][0], &accs[0]);
        break;
      case ReduceOp::argmax: case ReduceOp::argmin: {
        const Tensor* ops[] = {&accs[0], &accs[1], &partials[b][0], &partials[b][1]};
        FloatModeGuard fm;
        Iter comb = iter_make(4, ops, 0);
        iter_run_range_2d(comb, 0, comb.numel, loop);
        break;
      }
    }
  }
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x_in, const std::vector<int64_t>& axes, bool all_axes, bool keepdims) {
  const char* name = reduce_name(op);
  const bool is_arg = op == ReduceOp::argmax || op == ReduceOp::argmin;
  Tensor x = x_in;
  int nd = x.ndim();
  if (is_arg && all_axes) {
    // NumPy: the index into the flattened array.
    Tensor flat = ew_reshape(x, Dims{-1});
    Tensor r = reduce(op, flat, {0}, false, false);
    return keepdims ? ew_reshape(r, Dims::filled(nd, 1)) : r;
  }
  bool reduced[kMaxDims] = {};
  if (all_axes) {
    for (int i = 0; i < nd; ++i) reduced[i] = true;
  } else {
    PYNN_CHECK(!is_arg || axes.size() == 1, name, ": axis must be None or a single integer");
    for (int64_t a : axes) {
      int ax = normalize_axis(name, a, nd);
      PYNN_CHECK(!reduced[ax], name, ": duplicate value in 'axis'");
      reduced[ax] = true;
    }
  }
  Dims keep_shape, final_shape;
  int64_t count = 1;
  for (int i = 0; i < nd; ++i) {
    if (reduced[i]) {
      count *= x.shape[i];
      keep_shape.push_back(1);
    } else {
      keep_shape.push_back(x.shape[i]);
      final_shape.push_back(x.shape[i]);
    }
  }
  if (op != ReduceOp::sum && op != ReduceOp::mean && count == 0) {
    if (is_arg) PYNN_CHECK(false, name, ": attempt to get ", name, " of an empty sequence");
    PYNN_CHECK(false, name, ": zero-size array to reduction operation ", op == ReduceOp::max ? "maximum" : "minimum",
               " which has no identity");
  }

  // Accumulators and the loop.
  std::vector<Tensor> accs;
  InnerLoop2D loop = nullptr;
  const KernelTable& k = kernels();
  int xi = static_cast<int>(x.dtype);
  switch (op) {
    case ReduceOp::sum:
      accs.push_back(ew_full(keep_shape, scalar_tensor(is_float(x.dtype) ? DType::Float64 : DType::Int64, 0)));
      loop = k.reduce_sum[xi];
      break;
    case ReduceOp::mean:
      accs.push_back(ew_full(keep_shape, scalar_tensor(DType::Float64, 0)));
      loop = k.reduce_sum_f64[xi];
      break;
    case ReduceOp::max: case ReduceOp::min:
      accs.push_back(ew_full(keep_shape, extreme_identity(x.dtype, op == ReduceOp::max)));
      loop = op == ReduceOp::max ? k.reduce_max[xi] : k.reduce_min[xi];
      break;
    case ReduceOp::argmax: case ReduceOp::argmin:
      accs.push_back(ew_full(keep_shape, extreme_identity(x.dtype, op == ReduceOp::argmax)));
      accs.push_back(ew_full(keep_shape, extreme_identity(DType::Int64, false)));
      loop = op == ReduceOp::argmax ? k.reduce_argmax[xi] : k.reduce_argmin[xi];
      break;
  }

  // The iteration: accumulators broadcast over the reduced axes, the input,
  // and for arg reductions the index along the axis.
  std::vector<Tensor> views;
  for (const Tensor& a : accs) views.push_back(tensor_broadcast_to(name, a, x.shape));
  views.push_back(x);
  if (is_arg) {
    int ax = 0;
    while (!reduced[ax]) ++ax;
    Tensor idx = tensor_empty(Dims{x.shape[ax]}, DType::Int64);
    for (int64_t i = 0; i < x.shape[ax]; ++i) reinterpret_cast<int64_t*>(idx.data())[i] = i;
    Tensor iv = x;  // shape of x, stride only along the axis
    iv.storage = idx.storage;
    iv.offset = idx.offset;
    iv.dtype = DType::Int64;
    iv.strides = Dims::filled(nd, 0);
    iv.strides[ax] = 8;
    views.push_back(iv);
  }
  const Tensor* ops[kMaxOperands];
  for (size_t i = 0; i < views.size(); ++i) ops[i] = &views[i];
  Plan plan{iter_make(static_cast<int>(views.size()), ops, static_cast<int>(accs.size())),
            static_cast<int>(accs.size())};
  run_plan(plan, loop, accs, op);

  // Finish: result dtype and shape.
  Tensor r;
  switch (op) {
    case ReduceOp::sum:
      r = ew_astype(accs[0], is_float(x.dtype) ? x.dtype : DType::Int64);
      break;
    case ReduceOp::mean: {
      DType rd = x.dtype == DType::Float32 ? DType::Float32 : DType::Float64;
      Tensor q = ew_binary(BinaryOp::divide, accs[0], scalar_tensor(DType::Float64, static_cast<double>(count)), nullptr);
      r = rd == DType::Float64 ? q : ew_astype(q, rd);
      break;
    }
    case ReduceOp::max: case ReduceOp::min:
      r = accs[0];
      break;
    case ReduceOp::argmax: case ReduceOp::argmin:
      r = accs[1];
      break;
  }
  return keepdims ? r : ew_reshape(r, final_shape);
}

Tensor reduce_sum_to(const Tensor& x, const Dims& shape) {
  if (x.shape == shape) return x;
  // Axes that broadcasting added or stretched.
  int lead = x.ndim() - shape.n;
  PYNN_CHECK(lead >= 0, "sum_to: cannot sum ", x.shape, " to ", shape);
  std::vector<int64_t> axes;
  for (int i = 0; i < x.ndim(); ++i) {
    if (i < lead) {
      axes.push_back(i);
    } else {
      int64_t want = shape[i - lead];
      PYNN_CHECK(want == x.shape[i] || want == 1, "sum_to: cannot sum ", x.shape, " to ", shape);
      if (want == 1 && x.shape[i] != 1) axes.push_back(i);
    }
  }
  Tensor r = reduce(ReduceOp::sum, x, axes, false, true);
  return ew_reshape(r, shape);
}

}  // namespace pynn
