#include "tensor.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>

namespace pynn {

bool Tensor::is_contiguous() const {
  int64_t expect = elsize();
  for (int i = shape.n - 1; i >= 0; --i) {
    if (shape[i] == 0) return true;
    if (shape[i] != 1 && strides[i] != expect) return false;
    expect *= shape[i];
  }
  return true;
}

AllocTrace& alloc_trace() {
  thread_local AllocTrace trace;
  return trace;
}

Tensor tensor_empty(const Dims& shape, DType dtype) {
  AllocTrace& trace = alloc_trace();
  if (trace.replay && !trace.scratch) {  // Note [Captured allocations]
    PYNN_CHECK_KIND(PlanError, trace.next < trace.replay->size(),
                    "plan: a replayed op allocated more tensors than when it was captured (shape ", shape, ")");
    const Tensor& t = (*trace.replay)[trace.next++];
    PYNN_CHECK_KIND(PlanError, t.shape == shape && t.dtype == dtype, "plan: a replayed op allocated shape ",
                    shape, " ", dtype_name(dtype), " where the capture had ", t.shape, " ", dtype_name(t.dtype));
    Tensor r = t;  // its offset too: scratch shared in an arena (Note [Plan passes])
    r.strides = contiguous_strides(shape, itemsize(dtype));
    r.writeable = true;
    return r;
  }
  const int64_t nbytes = shape_check("empty", shape, itemsize(dtype)) * itemsize(dtype);
  Tensor t;
  t.dtype = dtype;
  t.shape = shape;
  t.strides = contiguous_strides(shape, itemsize(dtype));
  try {
    t.storage = storage_allocate(nbytes);
  } catch (const std::bad_alloc&) {
    // NumPy's wording.
    char size[32];
    double b = static_cast<double>(nbytes);
    const char* unit = "bytes";
    for (const char* u : {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}) {
      if (b < 1024.0) break;
      b /= 1024.0;
      unit = u;
    }
    std::snprintf(size, sizeof size, unit[0] == 'b' ? "%.0f" : "%.2f", b);
    throw MemoryError(detail::cat("Unable to allocate ", size, " ", unit, " for an array with shape ", shape,
                                  " and data type ", dtype_name(dtype)));
  }
  if (trace.log && !trace.scratch) trace.log->push_back(t);
  return t;
}

Tensor tensor_empty_like_layout(const Dims& shape, DType dtype, const Tensor& like) {
  if (like.shape != shape || like.is_contiguous()) return tensor_empty(shape, dtype);
  // Axes ordered by decreasing |stride| of `like` (stable, so ties keep C order).
  int n = shape.n;
  int perm[kMaxDims];
  for (int i = 0; i < n; ++i) perm[i] = i;
  std::stable_sort(perm, perm + n, [&](int a, int b) {
    int64_t sa = like.strides[a] < 0 ? -like.strides[a] : like.strides[a];
    int64_t sb = like.strides[b] < 0 ? -like.strides[b] : like.strides[b];
    return sa > sb;
  });
  Tensor t = tensor_empty(shape, dtype);
  int64_t s = itemsize(dtype);
  for (int i = n - 1; i >= 0; --i) {
    t.strides[perm[i]] = s;
    s *= shape[perm[i]] > 0 ? shape[perm[i]] : 1;
  }
  return t;
}

// ---- views ----

Tensor tensor_index(const Tensor& t, const std::vector<IndexItem>& items) {
  int consumed = 0, ellipses = 0;
  for (const IndexItem& it : items) {
    if (it.kind == IndexItem::Int || it.kind == IndexItem::Slice) ++consumed;
    if (it.kind == IndexItem::Ellipsis) ++ellipses;
  }
  PYNN_CHECK_KIND(IndexError, ellipses <= 1, "an index can only have a single ellipsis ('...')");
  PYNN_CHECK_KIND(IndexError, consumed <= t.ndim(), "too many indices for tensor: tensor is ", t.ndim(),
                  "-dimensional, but ", consumed, " were indexed");
  Tensor r;
  r.storage = t.storage;
  r.dtype = t.dtype;
  r.offset = t.offset;
  r.writeable = t.writeable;
  int dim = 0;
  auto take_rest = [&](int upto) {
    while (dim < upto) {
      r.shape.push_back(t.shape[dim]);
      r.strides.push_back(t.strides[dim]);
      ++dim;
    }
  };
  for (const IndexItem& it : items) {
    switch (it.kind) {
      case IndexItem::Ellipsis:
        take_rest(t.ndim() - consumed);  // `consumed` counts the int/slice items still to come
        break;
      case IndexItem::NewAxis:
        r.shape.push_back(1);
        r.strides.push_back(0);
        break;
      case IndexItem::Int: {
        int64_t n = t.shape[dim], i = it.start;
        PYNN_CHECK_KIND(IndexError, i >= -n && i < n, "index ", i, " is out of bounds for axis ", dim,
                        " with size ", n);
        if (i < 0) i += n;
        r.offset += i * t.strides[dim];
        ++dim;
        --consumed;
        break;
      }
      case IndexItem::Slice: {
        int64_t n = t.shape[dim], step = it.step;
        PYNN_CHECK(step != 0, "slice step cannot be zero");
        // Python's slice.indices() (PySlice_AdjustIndices): start and stop
        // clamped into the axis, the length counted without overflow for any
        // int64 start, stop and step (step -2**63 included).
        int64_t start, stop;
        if (step > 0) {
          start = !it.has_start ? 0 : it.start < 0 ? std::max<int64_t>(it.start + n, 0) : std::min(it.start, n);
          stop = !it.has_stop ? n : it.stop < 0 ? std::max<int64_t>(it.stop + n, 0) : std::min(it.stop, n);
        } else {
          start = !it.has_start ? n - 1 : it.start < 0 ? std::max<int64_t>(it.start + n, -1) : std::min(it.start, n - 1);
          stop = !it.has_stop ? -1 : it.stop < 0 ? std::max<int64_t>(it.stop + n, -1) : std::min(it.stop, n - 1);
        }
        const uint64_t mag = step > 0 ? static_cast<uint64_t>(step) : uint64_t{0} - static_cast<uint64_t>(step);
        int64_t len = 0;  // start and stop lie in [-1, n]: their difference cannot overflow
        if (step > 0 && stop > start) len = static_cast<int64_t>(static_cast<uint64_t>(stop - start - 1) / mag + 1);
        if (step < 0 && start > stop) len = static_cast<int64_t>(static_cast<uint64_t>(start - stop - 1) / mag + 1);
        if (len > 0) r.offset += start * t.strides[dim];
        r.shape.push_back(len);
        // With len <= 1 the stride is never used (and stride * step may not fit).
        r.strides.push_back(len > 1 ? t.strides[dim] * step : t.strides[dim]);
        ++dim;
        --consumed;
        break;
      }
    }
  }
  take_rest(t.ndim());
  return r;
}

namespace {

// Strides for viewing t (numel > 0, size-1 axes dropped by the caller's logic)
// as `shape` without a copy, or false. Groups old axes that are contiguous with
// each other and matches them to groups of new axes of equal element count.
bool reshape_strides(const Tensor& t, const Dims& shape, Dims* out) {
  int64_t os[kMaxDims] = {}, ost[kMaxDims] = {};  // old shape/strides without size-1 axes
  int on = 0;
  for (int i = 0; i < t.ndim(); ++i)
    if (t.shape[i] != 1) {
      os[on] = t.shape[i];
      ost[on] = t.strides[i];
      ++on;
    }
  *out = Dims::filled(shape.n, 0);
  int oi = 0, ni = 0;
  while (ni < shape.n || oi < on) {
    if (ni < shape.n && shape[ni] == 1) {  // new size-1 axis: any stride works
      (*out)[ni] = t.elsize();
      ++ni;
      continue;
    }
    if (oi >= on || ni >= shape.n) return false;
    // Grow a group [oi, oj) of old axes and [ni, nj) of new axes with equal products.
    int oj = oi + 1, nj = ni + 1;
    int64_t po = os[oi], pn = shape[ni];
    while (po != pn) {
      if (po < pn) {
        if (oj >= on) return false;
        po *= os[oj++];
      } else {
        if (nj >= shape.n) return false;
        pn *= shape[nj++];
      }
    }
    // The old axes of the group must chain: stride[k] == shape[k+1] * stride[k+1].
    for (int k = oi; k + 1 < oj; ++k)
      if (ost[k] != os[k + 1] * ost[k + 1]) return false;
    // Assign new strides from the innermost axis of the group outwards.
    int64_t s = ost[oj - 1];
    for (int k = nj - 1; k >= ni; --k) {
      (*out)[k] = s;
      s *= shape[k];
    }
    oi = oj;
    ni = nj;
  }
  return true;
}

}  // namespace

bool tensor_reshape_view(const Tensor& t, const Dims& req, Tensor* out) {
  Dims shape = req;
  int infer = -1;
  int64_t known = 1;
  bool too_big = false;  // the known dims multiply past int64: no tensor has that size
  for (int i = 0; i < shape.n; ++i) {
    if (shape[i] == -1) {
      PYNN_CHECK(infer < 0, "reshape: can only specify one unknown dimension");
      infer = i;
    } else {
      PYNN_CHECK(shape[i] >= 0, "reshape: negative dimension ", shape[i], " in ", req);
      if (__builtin_mul_overflow(known, shape[i], &known)) too_big = true;
    }
  }
  int64_t n = t.numel();
  if (infer >= 0) {
    PYNN_CHECK(!too_big && known != 0 && n % known == 0, "reshape: cannot reshape tensor of size ", n,
               " into shape ", req);
    shape[infer] = n / known;
  }
  PYNN_CHECK(infer >= 0 || (!too_big && known == n), "reshape: cannot reshape tensor of shape ", t.shape, " (size ", n,
             ") into shape ", req);
  shape_check("reshape", shape, t.elsize());
  *out = t;
  out->shape = shape;
  if (n == 0 || t.is_contiguous()) {
    out->strides = contiguous_strides(shape, t.elsize());
    return true;
  }
  return reshape_strides(t, shape, &out->strides);
}

Tensor tensor_transpose(const Tensor& t, const std::vector<int64_t>& perm_in) {
  int n = t.ndim();
  std::vector<int64_t> perm = perm_in;
  if (perm.empty())
    for (int i = n - 1; i >= 0; --i) perm.push_back(i);
  PYNN_CHECK(static_cast<int>(perm.size()) == n, "transpose: axes don't match tensor: got ", perm.size(),
             " axes for a tensor of dimension ", n);
  bool seen[kMaxDims] = {};
  Tensor r = t;
  for (int i = 0; i < n; ++i) {
    int a = normalize_axis("transpose", perm[i], n);
    PYNN_CHECK(!seen[a], "transpose: repeated axis in transpose");
    seen[a] = true;
    r.shape[i] = t.shape[a];
    r.strides[i] = t.strides[a];
  }
  return r;
}

Tensor tensor_expand_dims(const Tensor& t, const std::vector<int64_t>& axes) {
  int n = t.ndim() + static_cast<int>(axes.size());
  PYNN_CHECK(n <= kMaxDims, "expand_dims: pynn supports at most ", kMaxDims, " dimensions");
  bool is_new[kMaxDims] = {};
  for (int64_t a : axes) {
    int ax = normalize_axis("expand_dims", a, n);
    PYNN_CHECK(!is_new[ax], "expand_dims: repeated axis");
    is_new[ax] = true;
  }
  Tensor r = t;
  r.shape = Dims();
  r.strides = Dims();
  int src = 0;
  for (int i = 0; i < n; ++i) {
    if (is_new[i]) {
      r.shape.push_back(1);
      r.strides.push_back(0);
    } else {
      r.shape.push_back(t.shape[src]);
      r.strides.push_back(t.strides[src]);
      ++src;
    }
  }
  return r;
}

Tensor tensor_squeeze(const Tensor& t, const std::vector<int64_t>& axes, bool all) {
  bool drop[kMaxDims] = {};
  if (all) {
    for (int i = 0; i < t.ndim(); ++i) drop[i] = t.shape[i] == 1;
  } else {
    for (int64_t a : axes) {
      int ax = normalize_axis("squeeze", a, t.ndim());
      PYNN_CHECK(!drop[ax], "squeeze: duplicate value in 'axis' (", a, ")");
      PYNN_CHECK(t.shape[ax] == 1, "squeeze: cannot select an axis to squeeze out which has size not equal to one (axis ",
                 a, " of shape ", t.shape, ")");
      drop[ax] = true;
    }
  }
  Tensor r = t;
  r.shape = Dims();
  r.strides = Dims();
  for (int i = 0; i < t.ndim(); ++i)
    if (!drop[i]) {
      r.shape.push_back(t.shape[i]);
      r.strides.push_back(t.strides[i]);
    }
  return r;
}

Tensor tensor_broadcast_to(const char* op, const Tensor& t, const Dims& shape) {
  shape_check(op, shape, t.elsize());
  PYNN_CHECK(shape.n >= t.ndim(), op, ": input operand has more dimensions than allowed by the axis remapping (cannot broadcast ",
             t.shape, " to ", shape, ")");
  Tensor r = t;
  r.shape = shape;
  r.strides = Dims::filled(shape.n, 0);
  r.writeable = false;  // several elements may share one address (NumPy makes these views read-only too)
  int lead = shape.n - t.ndim();
  for (int i = 0; i < t.ndim(); ++i) {
    int64_t s = t.shape[i], d = shape[lead + i];
    PYNN_CHECK(s == d || s == 1, op, ": operands could not be broadcast together with remapped shapes [original->remapped]: ",
               t.shape, " and requested shape ", shape);
    r.strides[lead + i] = s == d ? t.strides[i] : 0;
  }
  return r;
}

void tensor_check_writeable(const char* op, const Tensor& t) {
  PYNN_CHECK(t.writeable, op, ": assignment destination is read-only");
}

void tensor_extent(const Tensor& t, int64_t* lo, int64_t* hi) {
  *lo = *hi = t.offset;
  if (t.numel() == 0) return;
  int64_t a = t.offset, b = t.offset;
  for (int i = 0; i < t.ndim(); ++i) {
    int64_t span = (t.shape[i] - 1) * t.strides[i];
    if (span < 0) a += span; else b += span;
  }
  *lo = a;
  *hi = b + t.elsize();
}

bool tensor_may_overlap(const Tensor& a, const Tensor& b) {
  // Compare absolute addresses: two storages may wrap the same NumPy memory.
  int64_t alo, ahi, blo, bhi;
  tensor_extent(a, &alo, &ahi);
  tensor_extent(b, &blo, &bhi);
  if (alo == ahi || blo == bhi) return false;
  auto base_a = reinterpret_cast<intptr_t>(a.storage->data), base_b = reinterpret_cast<intptr_t>(b.storage->data);
  return base_a + alo < base_b + bhi && base_b + blo < base_a + ahi;
}

bool tensor_same_layout(const Tensor& a, const Tensor& b) {
  return a.data() == b.data() && a.shape == b.shape && a.strides == b.strides && a.dtype == b.dtype;
}

}  // namespace pynn
