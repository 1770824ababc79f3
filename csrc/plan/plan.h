// plan.h: a training, evaluation or prediction step captured once and
// replayed in one C++ call.
//
// Note [Captured steps]
// The eager path (pynn/ops.py, the tape, the optimizers, the metrics) is the
// only definition of a step. To make a step fast, pynn/_capture.py runs it
// once eagerly with a Recorder active on this thread. Every binding that
// computes goes through plan_call, the one dispatch point: it runs the op and,
// while recording, keeps the call as a closure over the tensors it was given
// (a copy of each: storage, offset, shape, strides) together with the tensors
// the op allocated (Note [Captured allocations] in core/tensor.h). The steps,
// in program order, are the plan.
//
// Replaying a step runs the same C++ function on the same tensors, and
// tensor_empty hands it the buffers it allocated at capture, so every result
// lands where the next steps read it: the plan is a fixed graph of buffers,
// as a CUDA graph or tinygrad's TinyJit. What changes between replays is
// written into buffers before each one: the batch (gathered from the full
// arrays by Plan::run), and the plan's host inputs (optimizer scalars from
// the schedule, dropout keys), which pynn/_capture.py refills per replay with
// the Python functions that computed them. A Python number an op was given is
// a constant of the plan; a plan is captured per input signature (shapes,
// dtypes, training), so shape-derived numbers (1 / batch) are constants of it.
//
// What cannot be captured is detected, never silently baked in: Python
// reading a tensor that a step computed or that changes between replays (the
// buffer protocol under .numpy(), float(), np.asarray()) marks the recording
// failed with the place it happened, as does a random draw on the host
// (pynn.random) or an optimizer option decided in Python per step.
//
// Replay is bit-identical to the eager step by construction: the same
// functions on the same values in the same order, the same thread count.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "kernels/kernel_table.h"

namespace pynn {

// What the passes need to know of an optimizer update (Note [Plan passes]).
struct PlanOptim {
  OptimRule rule;
  std::vector<Tensor> bufs;  // variable, gradient, slots
  Tensor h;                  // its scalars: a float64 tensor read when it runs
};

// What the passes need to know of an element-wise kernel call that may fuse:
// out = loop(in[0]) or loop(in[0], in[1]), one float dtype, out contiguous and
// freshly allocated, each input contiguous with out's shape or one element.
struct PlanElementwise {
  InnerLoop loop;
  int nin;
  Tensor out;
  Tensor in[2];
};

struct PlanStep {
  std::string op;              // the op's name (plan_info, errors)
  std::function<void()> run;   // the kernel call over the fixed tensors it captured
  std::vector<Tensor> allocs;  // what it allocated at capture, handed back on replay
  std::vector<char> internal;  // per alloc: never returned by the op (scratch only it ever sees)
  std::shared_ptr<const PlanOptim> optim;     // set for an optimizer update
  std::shared_ptr<const PlanElementwise> ew;  // set for a fusible element-wise call
  bool hands_back = true;  // false: a fused step, which allocates nothing (its members' buffers are fixed)
};

class Plan {
 public:
  std::vector<PlanStep> steps;
  std::vector<Tensor> inputs;  // the batch buffers, gathered into before each replay

  // One replay: row order[start + r] (or start + r) of each source into row r
  // of the matching input buffer, then every step. sources[i] has the input's
  // dtype and row shape; stop - start is its number of rows.
  void run(const std::vector<Tensor>& sources, const Tensor* order, int64_t start, int64_t stop) const;
  // times: when given, receives each step's seconds (a profile of the plan).
  void replay(std::vector<double>* times = nullptr) const;
  int64_t buffer_bytes() const;  // held by the steps' buffers
};

// Note [Plan passes]
// A pass rewrites a plan into one that computes the same values, bit for bit
// (tests/test_core_captured.py runs every model with and without them):
//   merge_updates  consecutive optimizer updates of one rule and dtype become
//                  one step that updates every variable in one parallel region
//                  (optim_update_many): one fork and join per step instead of
//                  one per variable; each element's update is unchanged.
//   fuse_elementwise  a run of element-wise steps, each reading the output of
//                  the one before, becomes one step that walks the elements
//                  once, in blocks that stay in L1: every member's kernel runs
//                  on a block before the next block, and every member still
//                  writes its own output (so whatever else reads it, the plan
//                  or Python, sees it). The same inner loops on the same
//                  elements: the same bits.
//   share_scratch  the tensors an op allocates and does not return (its
//                  internal scratch: no other step and no Python object can
//                  hold them) live only while that op runs, so every step's
//                  scratch is laid out in one arena, reused by every step:
//                  the plan holds the largest step's scratch, not the sum.
//                  The op computes in other memory: the same bits.
// The first two return how many steps they removed, share_scratch the bytes
// it freed.
int64_t plan_merge_updates(Plan& plan);
int64_t plan_fuse_elementwise(Plan& plan);
int64_t plan_share_scratch(Plan& plan);

class Recorder {
 public:
  std::vector<PlanStep> steps;
  std::unordered_set<const Storage*> dynamic;  // storages whose values differ between replays
  std::string failure;                         // why the step cannot be captured (first reason)

  void add(const char* op, std::function<void()> run, std::vector<Tensor> allocs,
           const std::vector<const Storage*>& outputs);
  bool is_dynamic(const Tensor& t) const { return t.storage && dynamic.count(t.storage.get()) > 0; }
  void fail(const std::string& why) {
    if (failure.empty()) failure = why;
  }
};

// The storages of the tensors an op returned (a Tensor, a pair or a tuple of
// them, or nothing): its other allocations are internal.
inline void plan_outputs(const Tensor& t, std::vector<const Storage*>* out) { out->push_back(t.storage.get()); }
template <class... T>
void plan_outputs(const std::tuple<T...>& t, std::vector<const Storage*>* out) {
  std::apply([&](const auto&... x) { (plan_outputs(x, out), ...); }, t);
}
template <class A, class B>
void plan_outputs(const std::pair<A, B>& t, std::vector<const Storage*>* out) {
  plan_outputs(t.first, out);
  plan_outputs(t.second, out);
}

// This thread's active recorder, or null (the eager path).
Recorder*& plan_recorder();

// While recording: marks the step just recorded as the optimizer update
// `optim` (for the passes).
void plan_annotate(std::shared_ptr<const PlanOptim> optim);
// While recording: marks the step just recorded, which computed r = op(a, b)
// (or op(a) for a unary op, b null) with no out=, as fusible when it fits
// PlanElementwise.
void plan_annotate_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& r);
void plan_annotate_unary(UnaryOp op, const Tensor& a, const Tensor& r);

// The one dispatch point of the bindings (Note [Captured steps]): runs fn()
// and, while a recorder is active, records it with what it allocated. fn must
// hold its arguments by value: it runs again on every replay.
template <class F>
auto plan_call(const char* op, F fn) -> decltype(fn()) {
  Recorder* rec = plan_recorder();
  if (!rec) return fn();
  std::vector<Tensor> log;
  AllocTrace& trace = alloc_trace();
  struct Restore {
    AllocTrace& t;
    std::vector<Tensor>* saved;
    ~Restore() { t.log = saved; }
  } restore{trace, trace.log};
  trace.log = &log;
  std::vector<const Storage*> outputs;
  if constexpr (std::is_void_v<decltype(fn())>) {
    fn();
    trace.log = restore.saved;
    rec->add(op, fn, std::move(log), outputs);
  } else {
    auto r = fn();
    trace.log = restore.saved;
    plan_outputs(r, &outputs);
    rec->add(op, [fn]() { (void)fn(); }, std::move(log), outputs);
    return r;
  }
}

// Rows of src into the contiguous dst, keeping the dtype: row r of dst is row
// order[start + r] of src (order: 1-D int64), or start + r without an order.
// src: any strides, rows along axis 0, dst.shape == (rows,) + src.shape[1:].
void plan_gather(const Tensor& src, const Tensor& dst, const Tensor* order, int64_t start, int64_t rows);

}  // namespace pynn
