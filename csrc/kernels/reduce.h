// reduce.h: sum, mean, max, min, argmax, argmin over any set of axes.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace pynn {

enum class ReduceOp { sum, mean, max, min, argmax, argmin };
const char* reduce_name(ReduceOp op);  // the public function's name, for errors

// all_axes: reduce every axis (NumPy's axis=None); else `axes` (possibly
// negative; argmax/argmin take exactly one). Result dtypes follow NumPy except
// that sums of bool/uint8 are int64 (NumPy: int64/uint64).
Tensor reduce(ReduceOp op, const Tensor& x, const std::vector<int64_t>& axes, bool all_axes, bool keepdims);

// Sums x down to `shape` (the reverse of broadcasting x from shape): the
// backward of every broadcasting op.
Tensor reduce_sum_to(const Tensor& x, const Dims& shape);

}  // namespace pynn
