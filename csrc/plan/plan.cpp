// plan.cpp: recording and replaying steps (Note [Captured steps]).
#include "plan.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/check.h"
#include "core/parallel.h"
#include "kernels/elementwise.h"
#include "kernels/optim.h"

namespace pynn {

Recorder*& plan_recorder() {
  thread_local Recorder* active = nullptr;
  return active;
}

void plan_annotate(std::shared_ptr<const PlanOptim> optim) {
  Recorder* rec = plan_recorder();
  if (rec && !rec->steps.empty()) rec->steps.back().optim = std::move(optim);
}

namespace {

// The one shape of the merging passes: every run of two or more consecutive
// steps in which joins(previous, next) holds becomes the single step
// make(first, last) returns (last exclusive). Returns how many steps went.
template <class Joins, class Make>
int64_t merge_runs(Plan& plan, const Joins& joins, const Make& make) {
  std::vector<PlanStep> out;
  const size_t n = plan.steps.size();
  int64_t removed = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && joins(plan.steps[j - 1], plan.steps[j])) ++j;
    if (j - i < 2) {
      out.push_back(std::move(plan.steps[i]));
    } else {
      out.push_back(make(i, j));
      removed += static_cast<int64_t>(j - i) - 1;
    }
    i = j;
  }
  plan.steps = std::move(out);
  return removed;
}

}  // namespace

int64_t plan_merge_updates(Plan& plan) {
  auto joins = [](const PlanStep& prev, const PlanStep& next) {
    return prev.optim && next.optim && next.optim->rule == prev.optim->rule &&
           next.optim->bufs[0].dtype == prev.optim->bufs[0].dtype;
  };
  auto make = [&plan](size_t i, size_t j) {
    std::vector<std::shared_ptr<const PlanOptim>> group;
    for (size_t k = i; k < j; ++k) group.push_back(plan.steps[k].optim);
    PlanStep merged;
    merged.op = "optimizer_update x" + std::to_string(j - i);
    merged.run = [group] {
      std::vector<std::vector<Tensor>> bufs;
      std::vector<const double*> h;
      for (const auto& g : group) {
        optim_check_buffers(g->rule, g->bufs, static_cast<size_t>(g->h.shape[0]));
        bufs.push_back(g->bufs);
        h.push_back(reinterpret_cast<const double*>(g->h.data()));
      }
      optim_update_many(group[0]->rule, bufs, h);
    };
    return merged;
  };
  return merge_runs(plan, joins, make);
}

namespace {

// A fusible step's operand: contiguous with out's shape, or a single element.
bool fits_elementwise(const Tensor& t, const Tensor& out) {
  return t.dtype == out.dtype && ((t.shape == out.shape && t.is_contiguous()) || t.numel() == 1);
}

void annotate_elementwise(InnerLoop loop, int nin, const Tensor& a, const Tensor* b, const Tensor& r) {
  Recorder* rec = plan_recorder();
  if (!rec || rec->steps.empty() || !loop) return;
  PlanStep& s = rec->steps.back();
  const bool fresh = s.allocs.size() == 1 && s.allocs[0].storage == r.storage;
  if (!fresh || !is_float(r.dtype) || !r.is_contiguous() || r.numel() == 0 || !fits_elementwise(a, r) ||
      (b && !fits_elementwise(*b, r)))
    return;
  auto ew = std::make_shared<PlanElementwise>();
  ew->loop = loop;
  ew->nin = nin;
  ew->out = r;
  ew->in[0] = a;
  if (b) ew->in[1] = *b;
  s.ew = std::move(ew);
}

}  // namespace

void plan_annotate_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& r) {
  if (is_comparison(op) || a.dtype != b.dtype || a.dtype != r.dtype) return;
  annotate_elementwise(kernels().binary[static_cast<int>(op)][static_cast<int>(r.dtype)], 2, a, &b, r);
}

void plan_annotate_unary(UnaryOp op, const Tensor& a, const Tensor& r) {
  if (a.dtype != r.dtype) return;
  annotate_elementwise(kernels().unary[static_cast<int>(op)][static_cast<int>(r.dtype)], 1, a, nullptr, r);
}

constexpr int64_t kFuseBlock = 2048;  // elements per block of a fused step: every member's block stays in L1

int64_t plan_fuse_elementwise(Plan& plan) {
  // Joined while the next step is element-wise over as many elements and reads the last output.
  auto joins = [](const PlanStep& prev, const PlanStep& next) {
    if (!prev.ew || !next.ew || next.ew->out.numel() != prev.ew->out.numel()) return false;
    for (int k = 0; k < next.ew->nin; ++k)
      if (next.ew->in[k].storage == prev.ew->out.storage) return true;
    return false;
  };
  auto make = [&plan](size_t i, size_t j) {
    std::vector<std::shared_ptr<const PlanElementwise>> chain;
    PlanStep fused;
    fused.op = "fused(";
    for (size_t k = i; k < j; ++k) {
      chain.push_back(plan.steps[k].ew);
      fused.op += (k > i ? "," : "") + plan.steps[k].op;
      for (Tensor& t : plan.steps[k].allocs) {
        fused.allocs.push_back(std::move(t));
        fused.internal.push_back(0);
      }
    }
    fused.op += ")";
    fused.hands_back = false;
    const int64_t total = chain[0]->out.numel();
    fused.run = [chain, total] {
      parallel_for(total, kGrainSize, [&](int64_t b, int64_t e) {
        for (int64_t lo = b; lo < e; lo += kFuseBlock) {
          const int64_t m = std::min(kFuseBlock, e - lo);
          for (const auto& c : chain) {
            const int64_t es = c->out.elsize();
            char* p[3] = {c->out.data() + lo * es, nullptr, nullptr};
            int64_t st[3] = {es, 0, 0};
            for (int k = 0; k < c->nin; ++k) {
              const bool whole = c->in[k].numel() == total;
              p[k + 1] = c->in[k].data() + (whole ? lo * es : 0);
              st[k + 1] = whole ? es : 0;
            }
            c->loop(p, st, m);
          }
        }
      });
    };
    return fused;
  };
  return merge_runs(plan, joins, make);
}

int64_t plan_share_scratch(Plan& plan) {
  constexpr int64_t kAlign = 64;
  auto padded = [](int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; };
  int64_t arena = 0, before = 0;
  for (const PlanStep& s : plan.steps) {
    if (!s.hands_back) continue;
    int64_t step = 0;
    for (size_t k = 0; k < s.allocs.size(); ++k)
      if (s.internal[k]) step += padded(s.allocs[k].numel() * s.allocs[k].elsize());
    before += step;
    arena = std::max(arena, step);
  }
  if (arena == 0 || arena == before) return 0;
  StoragePtr mem = storage_allocate(arena);
  for (PlanStep& s : plan.steps) {
    if (!s.hands_back) continue;
    int64_t at = 0;
    for (size_t k = 0; k < s.allocs.size(); ++k) {
      if (!s.internal[k]) continue;
      Tensor& t = s.allocs[k];
      const int64_t bytes = t.numel() * t.elsize();
      t.storage = mem;  // the op's own buffer goes back to the allocator
      t.offset = at;
      at += padded(bytes);
    }
  }
  return before - arena;
}

void Recorder::add(const char* op, std::function<void()> run, std::vector<Tensor> allocs,
                   const std::vector<const Storage*>& outputs) {
  PlanStep s;
  for (const Tensor& t : allocs) {
    dynamic.insert(t.storage.get());
    s.internal.push_back(std::find(outputs.begin(), outputs.end(), t.storage.get()) == outputs.end());
  }
  s.op = op;
  s.run = std::move(run);
  s.allocs = std::move(allocs);
  steps.push_back(std::move(s));
}

void Plan::replay(std::vector<double>* times) const {
  AllocTrace& trace = alloc_trace();
  struct Restore {
    AllocTrace& t;
    ~Restore() {
      t.replay = nullptr;
      t.next = 0;
    }
  } restore{trace};
  static const std::vector<Tensor> none;
  for (const PlanStep& s : steps) {
    trace.replay = s.hands_back ? &s.allocs : &none;
    trace.next = 0;
    const auto t0 = times ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    try {
      s.run();
    } catch (const PlanError& e) {
      throw PlanError(std::string(e.what()) + " (replaying " + s.op + ")");
    }
    PYNN_CHECK_KIND(PlanError, !s.hands_back || trace.next == s.allocs.size(), "plan: replaying ", s.op,
                    " allocated ", trace.next, " tensors where the capture had ", s.allocs.size());
    if (times) times->push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

void Plan::run(const std::vector<Tensor>& sources, const Tensor* order, int64_t start, int64_t stop) const {
  PYNN_CHECK(sources.size() == inputs.size(), "plan: ", sources.size(), " sources for ", inputs.size(), " inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& dst = inputs[i];
    const Tensor& src = sources[i];
    bool fits = src.dtype == dst.dtype && src.ndim() == dst.ndim() && dst.ndim() > 0 && dst.shape[0] == stop - start;
    for (int d = 1; fits && d < dst.ndim(); ++d) fits = src.shape[d] == dst.shape[d];
    PYNN_CHECK_KIND(PlanError, fits, "plan: source ", i, " of shape ", src.shape, " ", dtype_name(src.dtype),
                    " does not fit the input buffer ", dst.shape, " ", dtype_name(dst.dtype), " for rows ", start,
                    "..", stop);
    PYNN_CHECK(start >= 0 && stop <= src.shape[0] && (!order || stop <= order->shape[0]), "plan: rows ", start,
               "..", stop, " out of range");
    plan_gather(src, dst, order, start, stop - start);
  }
  replay();
}

int64_t Plan::buffer_bytes() const {
  std::unordered_set<const Storage*> seen;
  int64_t total = 0;
  for (const PlanStep& s : steps)
    for (const Tensor& t : s.allocs)
      if (t.storage && seen.insert(t.storage.get()).second) total += t.storage->nbytes;
  return total;
}

void plan_gather(const Tensor& src, const Tensor& dst, const Tensor* order, int64_t start, int64_t rows) {
  const int64_t* idx = order ? reinterpret_cast<const int64_t*>(order->data()) + start : nullptr;
  const int64_t ostride = order ? order->strides[0] / 8 : 0;
  // The row of src as one run of bytes when its inner axes are C-contiguous.
  int64_t row_bytes = src.elsize();
  bool packed = true;
  for (int d = src.ndim() - 1; d >= 1; --d) {
    if (src.shape[d] != 1 && src.strides[d] != row_bytes) packed = false;
    row_bytes *= src.shape[d];
  }
  if (order) {
    for (int64_t r = 0; r < rows; ++r)
      PYNN_CHECK(idx[r * ostride] >= 0 && idx[r * ostride] < src.shape[0], "plan: row ", idx[r * ostride],
                 " out of range for ", src.shape[0], " rows");
  }
  if (!packed && !order) {  // any strides, rows in order: one strided copy
    ew_copy("fit", dst, tensor_index(src, {IndexItem{IndexItem::Slice, start, start + rows, 1, true, true}}));
    return;
  }
  if (!packed) {  // any strides, rows through the order: one strided copy per row
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t row = idx ? idx[r * ostride] : start + r;
      ew_copy("fit", tensor_index(dst, {IndexItem{IndexItem::Int, r}}),
              tensor_index(src, {IndexItem{IndexItem::Int, row}}));
    }
    return;
  }
  const int64_t rs = src.strides[0];
  const char* base = src.data();
  char* out = dst.data();
  const int64_t grain = row_bytes > 0 ? (kGrainSize * 4 + row_bytes - 1) / row_bytes : rows;
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t row = idx ? idx[r * ostride] : start + r;
      std::memcpy(out + r * row_bytes, base + row * rs, static_cast<size_t>(row_bytes));
    }
  });
}

}  // namespace pynn
