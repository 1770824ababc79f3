// tensor.h: the strided tensor and its views.
//
// Note [Strided tensor]
// A tensor is storage + byte offset + shape + byte strides + dtype, exactly
// NumPy's model, so any NumPy array can be shared without a copy. Strides are
// in bytes and may be negative or zero. Views (indexing, reshape when
// possible, transpose, expand_dims, squeeze, broadcast_to) share storage and
// only change offset/shape/strides. Every element address is a multiple of
// the itemsize (from_numpy refuses unaligned arrays), so kernels may use
// typed pointers.
//
// Note [Writeable flag]
// A tensor carries NumPy's WRITEABLE flag. from_numpy copies the array's flag
// (a memory-mapped file opened with mode "r", np.frombuffer(bytes) and
// read-only arrays give read-only tensors); every view copies its source's
// flag, and broadcast_to views are read-only, as NumPy's are. Every op that
// writes into an existing tensor (setitem, out=, in-place operators, the
// optimizer updates, Variable.assign*) calls tensor_check_writeable once, where
// it takes the destination, so writing read-only memory is a ValueError and
// never a crash. Copies (copy, astype, contiguous) are new tensors: writeable.
// The buffer protocol exports a read-only tensor read-only, so np.asarray(t)
// and t.numpy() are read-only NumPy arrays.
#pragma once

#include <cstdint>
#include <vector>

#include "dtype.h"
#include "shape.h"
#include "storage.h"

namespace pynn {

struct Tensor {
  StoragePtr storage;
  int64_t offset = 0;  // bytes from storage->data to element (0,...,0)
  Dims shape;
  Dims strides;  // bytes
  DType dtype = DType::Float32;
  bool writeable = true;  // Note [Writeable flag]

  int ndim() const { return shape.n; }
  int64_t numel() const { return shape_numel(shape); }
  int64_t elsize() const { return itemsize(dtype); }
  char* data() const { return static_cast<char*>(storage->data) + offset; }
  bool is_contiguous() const;
};

// ---- creation ----
// A new C-contiguous tensor (uninitialised).
Tensor tensor_empty(const Dims& shape, DType dtype);
// A new tensor with the same shape and the memory order of `like` (NumPy's
// order="K"), so element-wise results of transposed inputs stay contiguous.
Tensor tensor_empty_like_layout(const Dims& shape, DType dtype, const Tensor& like);

// Note [Captured allocations]
// While a step is captured (Note [Captured steps] in csrc/plan/plan.h), every
// tensor an op allocates on the calling thread is logged with the op; when the
// plan replays the op, tensor_empty hands the same tensors back in the same
// order, so each result lands in the buffer that later steps of the plan read,
// and a replayed step allocates nothing. Scratch whose size depends on the
// data (Note [Zero input columns]) or on the thread count is taken inside an
// AllocScratch scope, which is neither logged nor replayed.
struct AllocTrace {
  std::vector<Tensor>* log = nullptr;           // capturing: allocations are appended
  const std::vector<Tensor>* replay = nullptr;  // replaying: handed back in order
  size_t next = 0;
  int scratch = 0;
};
AllocTrace& alloc_trace();  // this thread's
struct AllocScratch {
  AllocScratch() { ++alloc_trace().scratch; }
  ~AllocScratch() { --alloc_trace().scratch; }
  AllocScratch(const AllocScratch&) = delete;
  AllocScratch& operator=(const AllocScratch&) = delete;
};

// ---- views ----
struct IndexItem {
  enum Kind { Int, Slice, Ellipsis, NewAxis } kind;
  int64_t start = 0, stop = 0, step = 1;  // Int uses start; Slice: NumPy semantics with the flags below
  bool has_start = false, has_stop = false;
};
Tensor tensor_index(const Tensor& t, const std::vector<IndexItem>& items);
// Reshape to `shape` (one -1 allowed) as a view. Returns false when the
// strides make a view impossible; *out then has the resolved shape and the
// caller copies (see ops_reshape in kernels/elementwise.h).
bool tensor_reshape_view(const Tensor& t, const Dims& shape, Tensor* out);
// perm empty: reverse the axes.
Tensor tensor_transpose(const Tensor& t, const std::vector<int64_t>& perm);
Tensor tensor_expand_dims(const Tensor& t, const std::vector<int64_t>& axes);
// axes empty: every size-1 axis.
Tensor tensor_squeeze(const Tensor& t, const std::vector<int64_t>& axes, bool all);
Tensor tensor_broadcast_to(const char* op, const Tensor& t, const Dims& shape);

// ValueError "<op>: assignment destination is read-only" (NumPy's words) when
// t is read-only: called by every op that writes into an existing tensor.
void tensor_check_writeable(const char* op, const Tensor& t);

// ---- memory relations ----
// The byte range [lo, hi) of storage touched by t (empty when numel == 0).
void tensor_extent(const Tensor& t, int64_t* lo, int64_t* hi);
bool tensor_may_overlap(const Tensor& a, const Tensor& b);
bool tensor_same_layout(const Tensor& a, const Tensor& b);

}  // namespace pynn
