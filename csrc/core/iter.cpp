#include "iter.h"

#include <algorithm>

namespace pynn {

Iter iter_make(int nops, const Tensor* const* operands, int order_by) {
  PYNN_ASSERT(nops >= 1 && nops <= kMaxOperands);
  const Dims& shape = operands[0]->shape;
  int nd = shape.n;
  for (int k = 0; k < nops; ++k) PYNN_ASSERT(operands[k]->shape == shape, "iterator operands differ in shape");

  Iter it;
  it.nops = nops;
  it.numel = shape_numel(shape);
  for (int k = 0; k < nops; ++k) it.base[k] = operands[k]->data();

  // 1. Order axes: decreasing |stride| of the chosen operand, ties keep C order.
  int perm[kMaxDims];
  for (int i = 0; i < nd; ++i) perm[i] = i;
  const Dims& key = operands[order_by]->strides;
  std::stable_sort(perm, perm + nd, [&](int a, int b) {
    int64_t sa = key[a] < 0 ? -key[a] : key[a], sb = key[b] < 0 ? -key[b] : key[b];
    return sa > sb;
  });

  // 2 + 3. Drop size-1 axes and coalesce chained neighbours.
  int out = 0;
  for (int j = 0; j < nd; ++j) {
    int ax = perm[j];
    int64_t ext = shape[ax];
    if (ext == 1) continue;
    if (out > 0) {
      bool chain = true;
      for (int k = 0; k < nops; ++k)
        if (it.strides[out - 1][k] != ext * operands[k]->strides[ax]) chain = false;
      if (chain) {
        it.shape[out - 1] *= ext;
        for (int k = 0; k < nops; ++k) it.strides[out - 1][k] = operands[k]->strides[ax];
        continue;
      }
    }
    it.shape[out] = ext;
    for (int k = 0; k < nops; ++k) it.strides[out][k] = operands[k]->strides[ax];
    ++out;
  }
  it.ndim = out;
  return it;
}

Iter iter_restrict(const Iter& it, int dim, int64_t lo, int64_t hi) {
  Iter r = it;
  for (int k = 0; k < it.nops; ++k) r.base[k] += lo * it.strides[dim][k];
  r.shape[dim] = hi - lo;
  r.numel = it.shape[dim] == 0 ? 0 : it.numel / it.shape[dim] * (hi - lo);
  return r;
}

namespace {

// The walk shared by both runners: visits [begin, end) as runs along the
// inner axis; with rows_ok, whole runs that continue along the next axis are
// handed over together. emit(p, n, rows) gets operand pointers for the run.
template <class Emit>
void walk(const Iter& it, int64_t begin, int64_t end, bool rows_ok, const Emit& emit) {
  if (begin >= end) return;
  const int nops = it.nops;
  char* p[kMaxOperands];
  if (it.ndim == 0) {  // a single element
    for (int k = 0; k < nops; ++k) p[k] = it.base[k];
    emit(p, int64_t{1}, int64_t{1});
    return;
  }
  const int inner = it.ndim - 1;
  const int64_t inner_n = it.shape[inner];
  // Multi-index of `begin` (outer axes) and the position within the inner run.
  int64_t idx[kMaxDims];
  int64_t rest = begin / inner_n;
  int64_t pos = begin % inner_n;
  for (int d = inner - 1; d >= 0; --d) {
    idx[d] = rest % it.shape[d];
    rest /= it.shape[d];
  }
  for (int k = 0; k < nops; ++k) {
    p[k] = it.base[k] + pos * it.strides[inner][k];
    for (int d = 0; d < inner; ++d) p[k] += idx[d] * it.strides[d][k];
  }
  int64_t remaining = end - begin;
  while (true) {
    int64_t n = inner_n - pos, rows = 1;
    if (n > remaining) n = remaining;
    if (rows_ok && pos == 0 && inner >= 1 && n == inner_n) {
      int64_t left = it.shape[inner - 1] - idx[inner - 1];
      rows = remaining / inner_n < left ? remaining / inner_n : left;
    }
    emit(p, n, rows);
    remaining -= n * rows;
    if (remaining == 0) return;
    // Step to the start of the next run (rows - 1 whole rows were consumed too).
    for (int k = 0; k < nops; ++k) p[k] -= pos * it.strides[inner][k];
    pos = 0;
    int64_t step = rows;
    for (int d = inner - 1; d >= 0; --d) {
      idx[d] += step;
      for (int k = 0; k < nops; ++k) p[k] += step * it.strides[d][k];
      if (idx[d] < it.shape[d]) break;
      for (int k = 0; k < nops; ++k) p[k] -= idx[d] * it.strides[d][k];
      idx[d] = 0;
      step = 1;
    }
  }
}

}  // namespace

void iter_run_range(const Iter& it, int64_t begin, int64_t end, InnerLoop loop) {
  int64_t s[kMaxOperands] = {};
  if (it.ndim > 0)
    for (int k = 0; k < it.nops; ++k) s[k] = it.strides[it.ndim - 1][k];
  walk(it, begin, end, false, [&](char** p, int64_t n, int64_t) { loop(p, s, n); });
}

void iter_run_range_2d(const Iter& it, int64_t begin, int64_t end, InnerLoop2D loop) {
  int64_t s[kMaxOperands] = {}, outer[kMaxOperands] = {};
  for (int k = 0; k < it.nops; ++k) {
    if (it.ndim > 0) s[k] = it.strides[it.ndim - 1][k];
    if (it.ndim > 1) outer[k] = it.strides[it.ndim - 2][k];
  }
  walk(it, begin, end, true, [&](char** p, int64_t n, int64_t rows) { loop(p, s, n, outer, rows); });
}

}  // namespace pynn
